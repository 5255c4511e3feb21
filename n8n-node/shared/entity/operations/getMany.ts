import type { EntityUi } from '../descriptor';
import { paging, simplify, sortDirection } from '../fields';
import type { EntityOperation } from '../operation';

export function getMany(e: EntityUi): EntityOperation {
	return {
		option: {
			name: 'Get Many',
			value: 'getMany',
			action: `Search and filter ${e.nouns}, returning one item per ${e.noun}`,
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
			{
				displayName: 'Options',
				name: 'options',
				type: 'collection',
				placeholder: 'Add Option',
				default: {},
				options: [
					{
						displayName: 'Include',
						name: 'with',
						type: 'multiOptions',
						default: [],
						description: `Related data to embed in each ${e.noun}`,
						options: [...e.include, ...(e.listInclude ?? [])].sort((a, b) => a.name.localeCompare(b.name)),
					},
					{
						displayName: 'Sort By',
						name: 'sortBy',
						type: 'options',
						default: e.sortBy[0].value,
						options: e.sortBy,
					},
					sortDirection,
				],
			},
		],
	};
}
