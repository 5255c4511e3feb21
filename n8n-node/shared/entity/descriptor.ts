// How an amoCRM entity looks in n8n: the names, pickers and fields of its
// node. The machinery behind it is the core's (src/entity); this is only the
// description each generic operation is built from.

import type { INodeProperties, INodePropertyOptions } from 'n8n-workflow';

export interface EntityUi {
	/** The core's resource name and the node's Resource value: `lead`. */
	resource: string;
	noun: string;
	nouns: string;
	/** Title case: `Lead`, `Leads`. */
	label: string;
	labels: string;
	/** The node parameter naming one record: `leadId`. */
	idParam: string;
	/** The card's path before the ID (`/leads/detail/`), when records have cards. */
	cardPath?: string;
	/** A placeholder record name for the picker. */
	example: string;
	/** Whether records can be picked from a searchable list (tasks have no text search): default true. */
	pickFromList?: boolean;
	/** Whether Get Many offers amoCRM's text search: default true. */
	search?: boolean;
	/** Whether Get and Get Many offer Simplify: default true. */
	simplify?: boolean;
	/** `with` values of Get, and those only Get Many takes. */
	include: INodePropertyOptions[];
	listInclude?: INodePropertyOptions[];
	sortBy: INodePropertyOptions[];
	/** Get Many's filters (inside its Filters collection). */
	filters: INodeProperties[];
	/** Create: fields shown at the top level (a lead's Name), and the rest. */
	createPrimary: INodeProperties[];
	createFields: INodeProperties[];
	/** Update: fields shown at the top level (a contact's phones), and Update Fields. */
	updatePrimary?: INodeProperties[];
	updateFields: INodeProperties[];
	/** Options of Create and Update beyond the batch size (a default country for phones). */
	writeOptions?: INodeProperties[];
	/** The kinds of records this entity links to, as Link's inputs. */
	links?: Array<{ label: string; labels: string; param: string; type: string; example: string }>;
	linksCatalogElements?: boolean;
	notes: boolean;
	tags: boolean;
	customFields: boolean;
	/** What Create and Update are told they can set, for the operation list. */
	writeSummary: string;
	/**
	 * Parameters that choose where the records live (the catalog of catalog
	 * elements): shown for every operation of the resource, read for every
	 * item, and sent with every dropdown lookup.
	 */
	scope?: INodeProperties[];
}

/** The scope parameters' names, which dropdowns of the resource depend on. */
export function scopeNames(e: EntityUi): string[] {
	return (e.scope ?? []).map((p) => p.name);
}

/** n8n's expression hint, added to dropdowns that also take an ID. */
export const EXPRESSION_HINT =
	'Choose from the list, or specify an ID using an <a href="https://docs.n8n.io/code/expressions/">expression</a>.';

/**
 * A record chosen from a searchable list, by ID, or by the URL of its card.
 * `searchListMethod` searches the node's own records unless told otherwise
 * (a task's lead is searched among leads).
 */
export function locator(e: EntityUi, description?: string, searchListMethod = 'searchRecords'): INodeProperties {
	const modes: INodeProperties['modes'] = [];
	if (e.pickFromList !== false) {
		modes.push({
			displayName: 'From List',
			name: 'list',
			type: 'list',
			placeholder: `Select a ${e.noun}...`,
			typeOptions: { searchListMethod, searchable: true },
		});
	}
	modes.push(
		{
			displayName: 'By ID',
			name: 'id',
			type: 'string',
			placeholder: '12345',
			validation: [
				{
					type: 'regex',
					properties: { regex: '^\\s*[0-9]+\\s*$', errorMessage: `A ${e.noun} ID is a whole number such as 12345` },
				},
			],
		},
	);
	if (e.cardPath) {
		modes.push({
			displayName: 'By URL',
			name: 'url',
			type: 'string',
			placeholder: `https://example.amocrm.ru${e.cardPath}12345`,
			validation: [
				{
					type: 'regex',
					properties: {
						regex: `^https?://[^/]+${e.cardPath}[0-9]+`,
						errorMessage: `Paste the address of a ${e.noun} card, like https://example.amocrm.ru${e.cardPath}12345`,
					},
				},
			],
		});
	}
	return {
		displayName: e.label,
		name: e.idParam,
		type: 'resourceLocator',
		default: { mode: modes[0].name, value: '' },
		required: true,
		description: description ?? `The ${e.noun} to use`,
		modes,
	};
}
