// Types of the generated module next to this file (scripts/build.mjs writes
// it from wasm-bindgen's output). Every value crossing is a JSON string; the
// typed shapes live in ../core.ts. The build fails if the module stops
// exporting a name declared here.

/** A running node operation in the Rust core (src/wasm.rs). */
export declare class NodeCall {
	constructor(input: string);
	start(nowMs: number): string;
	feed(first: number, items: string, last: boolean, nowMs: number): string;
	resume(id: number, meta: string, body: string, nowMs: number): string;
	resumeBytes(id: number, meta: string, body: Uint8Array, nowMs: number): string;
	fail(id: number, code: string, message: string, nowMs: number): string;
	acquire(nowMs: number): number;
	free(): void;
}

export declare function checkAccount(config: string): string;
export declare function checkRequestUrl(config: string, url: string): string;
export declare function parseWebhook(body: string, options: string): string;
export declare function tokenPlan(fields: string, nowMs: number): string;
export declare function tokenComplete(flight: string, meta: string, body: string, nowMs: number): string;
export declare function tokenAbandon(flight: string, code: string, nowMs: number): string;
export declare function tokenRenewalDue(fields: string, nowMs: number): boolean;
export declare function tokenExport(): string;
export declare function tokenImport(state: string): string;

/** Compiles and instantiates the embedded module if not done yet; true when it did now. */
export declare function __instantiate(): boolean;
/** Drops the instance after a trap; the next call instantiates a fresh one. */
export declare function __reset(): void;
