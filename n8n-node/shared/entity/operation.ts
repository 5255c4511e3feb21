import type { INodeProperties, INodePropertyOptions } from 'n8n-workflow';

/** One operation of an entity node, as the generic router runs it. */
export interface EntityOperation {
	/** The entry of the Operation list; its `action` is what the node panel and AI agents read. */
	option: INodePropertyOptions & { value: string; action: string };
	/** Parameters the core reads for each item (src/entity, src/<entity>). */
	params: string[];
	/** With Mapping set to automatic: the parameters still read; the item itself is the record. */
	autoParams?: string[];
	/** Shown for this operation; the node builder adds the display options. */
	properties: INodeProperties[];
	/** The core's resource and operation when they differ from the node's. */
	core?: { resource: string; operation: string };
}
