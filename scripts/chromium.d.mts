export declare function chromiumPath(env?: NodeJS.ProcessEnv): string | undefined;
export declare const CHROMIUM_ARGS: string[];
