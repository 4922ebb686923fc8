export { buildApp } from './app';
export type { AppDeps, ServerConfig } from './deps';
