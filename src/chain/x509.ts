// The X.509 and ASN.1 libraries are CommonJS. Taken with require(), Node skips the scan of their
// sources for export names that an ES import of CommonJS makes: about 0.1 s of every command
// that analyses chains. Modules take the libraries' values from here and their types with
// `import type`, which loads nothing.
import { webcrypto } from 'node:crypto';
import { createRequire } from 'node:module';
import type * as Asn1Schema from '@peculiar/asn1-schema';
import type * as Asn1X509 from '@peculiar/asn1-x509';
import type * as X509 from '@peculiar/x509';

export const requireCommonJs = createRequire(import.meta.url);

// @peculiar/x509 needs reflect-metadata loaded before it and a WebCrypto provider set once per
// process; every module that uses the library takes it from here so that order is guaranteed.
requireCommonJs('reflect-metadata');
export const x509 = requireCommonJs('@peculiar/x509') as typeof X509;
x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);

export const asn1Schema = requireCommonJs('@peculiar/asn1-schema') as typeof Asn1Schema;
export const asn1X509 = requireCommonJs('@peculiar/asn1-x509') as typeof Asn1X509;
