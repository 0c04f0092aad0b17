import type { IClientOptions } from 'mqtt';
import type { CompiledTls } from '../framework/common.js';

/** The credentials and TLS settings of an MQTT connection, shared by the source and the sink. */
export function brokerSecurityOptions(config: {
  readonly auth: { readonly username: string; readonly password?: string } | null;
  readonly tls: CompiledTls | null;
}): Partial<IClientOptions> {
  const options: Partial<IClientOptions> = {};
  if (config.auth) {
    options.username = config.auth.username;
    if (config.auth.password !== undefined) options.password = config.auth.password;
  }
  if (config.tls) {
    const { ca, cert, key, rejectUnauthorized } = config.tls;
    Object.assign(
      options,
      { rejectUnauthorized },
      ca ? { ca } : {},
      cert ? { cert } : {},
      key ? { key } : {},
    );
  }
  return options;
}
