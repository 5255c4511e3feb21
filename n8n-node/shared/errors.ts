// Turning the core's errors into n8n's error classes. The error objects are
// built here from the core's message only, never from a caught HTTP error:
// n8n keeps whatever object it is given, and an HTTP error carries the request
// headers, the token among them.

import { NodeApiError, NodeOperationError } from 'n8n-workflow';
import type { INode, JsonObject } from 'n8n-workflow';
import type { CoreError } from './core';

export function toNodeError(node: INode, error: CoreError, itemIndex = error.itemIndex): NodeApiError | NodeOperationError {
	const { message, description } = error;
	let out: NodeApiError | NodeOperationError;
	if (error.kind === 'api') {
		const httpCode = error.httpCode === undefined ? null : String(error.httpCode);
		const response: JsonObject = { message, description: description ?? null, httpCode };
		out = new NodeApiError(node, response, {
			message,
			description,
			httpCode: httpCode ?? undefined,
			itemIndex,
		});
	} else {
		out = new NodeOperationError(node, message, { description, itemIndex });
	}
	// What the node wrote before it stopped: item indexes and record IDs,
	// for a workflow that catches the error to act on.
	if (error.written?.length) out.context.written = error.written;
	return out;
}
