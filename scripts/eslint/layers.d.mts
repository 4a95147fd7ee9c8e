export declare const LAYERS: readonly string[];
declare const plugin: { rules: Record<string, unknown> };
export default plugin;
