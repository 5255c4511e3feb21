import type { INodeProperties } from 'n8n-workflow';
import type { EntityUi } from '../descriptor';
import { locator } from '../descriptor';
import { simplify } from '../fields';
import type { EntityOperation } from '../operation';

export function get(e: EntityUi): EntityOperation {
	return {
		option: {
			name: 'Get',
			value: 'get',
			action: `Get a ${e.noun} by ID or URL`,
			description: `Get one ${e.noun} by ID${e.cardPath ? ', card URL' : ''} or from a list; returns the ${e.noun} with its fields, custom fields and chosen related data`,
		},
		params: [e.idParam, 'with', 'simplify'],
		properties: [
			locator(e),
			...(e.include.length
				? [
						{
							displayName: 'Include',
							name: 'with',
							type: 'multiOptions',
							default: [],
							description: `Related data amoCRM can embed in the ${e.noun} (its "with" parameter)`,
							options: e.include,
						} as INodeProperties,
					]
				: []),
			simplify(e),
		],
	};
}
