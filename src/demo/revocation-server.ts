// The demo PKI's publication point on loopback: CRLs over HTTP (GET /crl/NAME.crl) and an OCSP
// responder (POST /ocsp) answering for one CA from a table of revoked serials, signed with that
// CA's key. Built with the ASN.1 schema library, as real responders are.
import { createHash, createPrivateKey, sign } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  BasicOCSPResponse,
  CertStatus,
  id_pkix_ocsp_basic,
  id_pkix_ocsp_nonce,
  OCSPRequest,
  OCSPResponse,
  OCSPResponseStatus,
  ResponderID,
  ResponseBytes,
  ResponseData,
  RevokedInfo,
  SingleResponse,
} from '@peculiar/asn1-ocsp';
import { AsnConvert, OctetString } from '@peculiar/asn1-schema';
import { AlgorithmIdentifier, Certificate, CRLReason, type CRLReasons, Extension, SubjectPublicKeyInfo } from '@peculiar/asn1-x509';
import type { CertificateAuthority, RevokedEntry } from './pki.js';

const SHA256_WITH_RSA = '1.2.840.113549.1.1.11';
const ECDSA_WITH_SHA256 = '1.2.840.10045.4.3.2';
const HOUR_MS = 3_600_000;

export interface RevocationServerOptions {
  host: string;
  /** 0 takes a free port (see `url`). */
  port: number;
  /** Path (e.g. /crl/contoso-issuing.crl) → DER CRL; read at each request, so entries may be added later. */
  crls: Record<string, Buffer>;
  /** The CA the OCSP responder answers for, and the serials it has revoked. */
  ocsp: { ca: CertificateAuthority; revoked: RevokedEntry[] };
}

export interface RevocationServer {
  url: string;
  close(): Promise<void>;
}

export async function startRevocationServer(o: RevocationServerOptions): Promise<RevocationServer> {
  if (!o.host.startsWith('127.')) throw new Error(`the demo PKI listens on loopback only, not ${o.host}`);
  const server: Server = createServer((req, res) => {
    const path = req.url ?? '/';
    if (req.method === 'GET' && o.crls[path]) {
      res.writeHead(200, { 'content-type': 'application/pkix-crl' }).end(o.crls[path]);
      return;
    }
    if (req.method === 'POST' && path === '/ocsp') {
      const chunks: Buffer[] = [];
      let size = 0;
      req.on('data', (c: Buffer) => {
        size += c.length;
        if (size <= 64 * 1024) chunks.push(c);
      });
      req.on('end', () => {
        res.writeHead(200, { 'content-type': 'application/ocsp-response' }).end(ocspAnswer(Buffer.concat(chunks), o.ocsp.ca, o.ocsp.revoked));
      });
      return;
    }
    res.writeHead(404).end();
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host: o.host, port: o.port, exclusive: true }, () => resolve());
  });
  // Port 0 takes a free one; the URL names the port bound.
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://${o.host}:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** The DER OCSP response to a DER request: one answer per certificate asked about. */
function ocspAnswer(request: Buffer, ca: CertificateAuthority, revoked: RevokedEntry[]): Buffer {
  let req: OCSPRequest;
  try {
    req = AsnConvert.parse(request, OCSPRequest);
  } catch {
    return Buffer.from(AsnConvert.serialize(new OCSPResponse({ responseStatus: OCSPResponseStatus.malformedRequest })));
  }
  const now = new Date();
  const tbs = AsnConvert.parse(ca.der, Certificate).tbsCertificate;
  const keyBits = AsnConvert.parse(AsnConvert.serialize(tbs.subjectPublicKeyInfo), SubjectPublicKeyInfo).subjectPublicKey;
  const responses = req.tbsRequest.requestList.map(({ reqCert }) => {
    const serial = Buffer.from(reqCert.serialNumber)
      .toString('hex')
      .replace(/^(00)+(?=.)/, '');
    const entry = revoked.find((r) => r.serialNumber.replace(/^(00)+(?=.)/, '') === serial);
    const certStatus = entry
      ? new CertStatus({
          revoked: new RevokedInfo({
            revocationTime: entry.revokedAt ?? now,
            ...(entry.reason !== undefined ? { revocationReason: new CRLReason(entry.reason as number as CRLReasons) } : {}),
          }),
        })
      : new CertStatus({ good: null });
    return new SingleResponse({
      certID: reqCert,
      certStatus,
      thisUpdate: new Date(now.getTime() - HOUR_MS),
      nextUpdate: new Date(now.getTime() + 24 * HOUR_MS),
    });
  });
  const nonce = req.tbsRequest.requestExtensions?.find((e) => e.extnID === id_pkix_ocsp_nonce);
  const data = new ResponseData({
    responderID: new ResponderID({ byKey: new OctetString(createHash('sha1').update(Buffer.from(keyBits)).digest()) }),
    producedAt: now,
    responses,
    ...(nonce ? { responseExtensions: [new Extension({ extnID: id_pkix_ocsp_nonce, critical: false, extnValue: nonce.extnValue })] } : {}),
  });
  const rsa = ca.keySpec.startsWith('rsa');
  const signature = sign('sha256', Buffer.from(AsnConvert.serialize(data)), createPrivateKey(ca.keyPem));
  const basic = new BasicOCSPResponse({
    tbsResponseData: data,
    signatureAlgorithm: new AlgorithmIdentifier({ algorithm: rsa ? SHA256_WITH_RSA : ECDSA_WITH_SHA256, ...(rsa ? { parameters: null } : {}) }),
    signature: signature.buffer.slice(signature.byteOffset, signature.byteOffset + signature.length),
  });
  const response = new OCSPResponse({
    responseStatus: OCSPResponseStatus.successful,
    responseBytes: new ResponseBytes({ responseType: id_pkix_ocsp_basic, response: new OctetString(AsnConvert.serialize(basic)) }),
  });
  return Buffer.from(AsnConvert.serialize(response));
}
