import type { INodeProperties } from 'n8n-workflow';
import type { EntityUi } from '../descriptor';
import { paging, simplify, sortDirection } from '../fields';
import type { EntityOperation } from '../operation';

export function getMany(e: EntityUi): EntityOperation {
	const include = [...e.include, ...(e.listInclude ?? [])].sort((a, b) => a.name.localeCompare(b.name));
	const options: INodeProperties[] = [];
	if (include.length) {
		options.push({
			displayName: 'Include',
			name: 'with',
			type: 'multiOptions',
			default: [],
			description: `Related data to embed in each ${e.noun}`,
			options: include,
		});
	}
	if (e.sortBy.length) {
		options.push({ displayName: 'Sort By', name: 'sortBy', type: 'options', default: e.sortBy[0].value, options: e.sortBy }, sortDirection);
	}
	return {
		option: {
			name: 'Get Many',
			value: 'getMany',
			action: `Get many ${e.nouns} by search and filters`,
			description: `Search and filter ${e.nouns}; returns one item per ${e.noun}, every page with Return All`,
		},
		params: ['returnAll', 'limit', 'simplify', 'query', 'filters', 'options'],
		properties: [
			...paging(),
			{
				displayName: 'Search',
				name: 'query',
				type: 'string',
				default: '',
				placeholder: e.example,
				description: `Text to look for in ${e.noun} names and field values (amoCRM's "query" search: any part of any field)`,
			},
			simplify(e),
			{
				displayName: 'Filters',
				name: 'filters',
				type: 'collection',
				placeholder: 'Add Filter',
				default: {},
				description: "Sent in amoCRM's filter syntax; all filters must match",
				options: e.filters,
			},
			...(options.length ? [{ displayName: 'Options', name: 'options', type: 'collection', placeholder: 'Add Option', default: {}, options } as INodeProperties] : []),
		],
	};
}
