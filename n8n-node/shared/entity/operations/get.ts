import type { EntityUi } from '../descriptor';
import { locator } from '../descriptor';
import { simplify } from '../fields';
import type { EntityOperation } from '../operation';

export function get(e: EntityUi): EntityOperation {
	return {
		option: {
			name: 'Get',
			value: 'get',
			action: `Get a ${e.noun} by ID${e.cardPath ? ' or URL' : ''}, returning its fields${e.include.length ? ' and linked records' : ''}`,
			description: `Get one ${e.noun} by ID${e.cardPath ? ', card URL' : ''}${e.pickFromList === false ? '' : ' or from a list'}; returns the ${e.noun} with its fields${e.customFields ? ', custom fields' : ''}${e.include.length ? ' and chosen related data' : ''}`,
		},
		params: [e.idParam, 'with', 'simplify'],
		properties: [
			locator(e),
			...(e.include.length
				? [
						{
							displayName: 'Include',
							name: 'with',
							type: 'multiOptions' as const,
							default: [],
							description: `Related data amoCRM can embed in the ${e.noun} (its "with" parameter)`,
							options: e.include,
						},
					]
				: []),
			...(e.simplify === false ? [] : [simplify(e)]),
		],
	};
}
