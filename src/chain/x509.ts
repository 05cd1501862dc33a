// @peculiar/x509 needs reflect-metadata loaded before it and a WebCrypto provider set once per
// process; every module that uses the library imports it from here so that order is guaranteed.
import 'reflect-metadata';
import { webcrypto } from 'node:crypto';
import * as x509 from '@peculiar/x509';

x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);

export { x509 };
