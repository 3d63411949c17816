/** The protocol version this module describes: `hello.protocol` and `welcome.protocol`. */
export const PROTOCOL_VERSION = 1;
