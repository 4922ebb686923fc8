// @kassa/app: the distribution. Start-up, the worker entry, the operator CLI, the demo seed and the
// bundled plugins; the only package that names plugins.
export { bundledPlugins } from './bundled-plugins';
export { composeKassa, type KassaComposition } from './compose-kassa';
export { startKassa, type StartKassaOptions, type RunningKassa } from './start-kassa';
export { startEmbeddedDefaults, type EmbeddedDefaults } from './embedded-defaults';
export { seedDemo, type DemoLogin, type SeedResult } from './seed/demo-seed';
