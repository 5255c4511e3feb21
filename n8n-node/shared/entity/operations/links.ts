import type { INodeProperties } from 'n8n-workflow';
import type { EntityUi } from '../descriptor';
import { locator } from '../descriptor';
import type { EntityOperation } from '../operation';

function targets(e: EntityUi): INodeProperties[] {
	const out: INodeProperties[] = (e.links ?? []).map((l) => ({
		displayName: `${l.label} IDs`,
		name: l.param,
		type: 'string',
		default: '',
		placeholder: l.example,
		description: `${l.labels} to link, by ID, separated by commas`,
	}));
	if (e.linksCatalogElements) {
		out.push({
			displayName: 'Catalog Elements',
			name: 'catalogElements',
			type: 'fixedCollection',
			typeOptions: { multipleValues: true },
			default: {},
			placeholder: 'Add Catalog Element',
			description: 'Products or other catalog elements, with their quantity',
			options: [
				{
					displayName: 'Elements',
					name: 'elements',
					values: [
						{ displayName: 'Catalog ID', name: 'catalogId', type: 'string', default: '' },
						{ displayName: 'Element ID', name: 'elementId', type: 'string', default: '' },
						{
							displayName: 'Price Field ID',
							name: 'priceId',
							type: 'string',
							default: '',
							description: "The catalog's price field whose value applies, if the catalog has several",
						},
						{ displayName: 'Quantity', name: 'quantity', type: 'number', default: 1, typeOptions: { minValue: 0 } },
					],
				},
			],
		});
	}
	return out;
}

function linkedKinds(e: EntityUi): string {
	const kinds = (e.links ?? []).map((l) => l.labels.toLowerCase());
	if (e.linksCatalogElements) kinds.push('catalog elements');
	return kinds.join(', ');
}

export function links(e: EntityUi): EntityOperation[] {
	const params = [e.idParam, ...(e.links ?? []).map((l) => l.param), 'catalogElements'];
	const kinds = linkedKinds(e);
	return [
		{
			option: {
				name: 'Link',
				value: 'link',
				action: `Link ${kinds} to a ${e.noun}`,
				description: `Link existing ${kinds} to a ${e.noun}; returns the links made`,
			},
			params,
			properties: [locator(e), ...targets(e)],
		},
		{
			option: {
				name: 'Unlink',
				value: 'unlink',
				action: `Unlink ${kinds} from a ${e.noun}`,
				description: `Remove links between a ${e.noun} and ${kinds}`,
			},
			params,
			properties: [locator(e), ...targets(e)],
		},
		{
			option: {
				name: 'Get Links',
				value: 'getLinks',
				action: `Get the records linked to a ${e.noun}, one item per link`,
				description: `List the ${kinds} linked to a ${e.noun}; returns one item per link`,
			},
			params: [e.idParam, 'filters'],
			properties: [
				locator(e),
				{
					displayName: 'Filters',
					name: 'filters',
					type: 'collection',
					placeholder: 'Add Filter',
					default: {},
					options: [
						{
							displayName: 'Linked Types',
							name: 'toEntityTypes',
							type: 'multiOptions',
							default: [],
							options: [
								...(e.linksCatalogElements ? [{ name: 'Catalog Elements', value: 'catalog_elements' }] : []),
								...(e.links ?? []).map((l) => ({ name: l.labels, value: l.type })),
							].sort((a, b) => a.name.localeCompare(b.name)),
						},
					],
				},
			],
		},
	];
}
