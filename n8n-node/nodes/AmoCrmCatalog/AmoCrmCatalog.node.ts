import { resourcesNode } from '../../shared/entity/node';
import { ELEMENT, ELEMENT_OPERATIONS } from './element';
import { LIST, LIST_OPERATIONS } from './list';

export class AmoCrmCatalog extends resourcesNode(
	{
		displayName: 'AmoCRM Catalog',
		name: 'amoCrmCatalog',
		subtitle: '={{$parameter["operation"] + ": " + $parameter["resource"]}}',
		description:
			"amoCRM / Kommo lists (catalogs) and their elements: products with SKU and price, created and updated in batches, and a lead's products with their quantities",
	},
	[
		{ ui: ELEMENT, operations: ELEMENT_OPERATIONS },
		{ ui: LIST, operations: LIST_OPERATIONS },
	],
) {}
