import type { INodeProperties } from 'n8n-workflow';
import type { EntityUi } from '../descriptor';
import { locator } from '../descriptor';
import { customFields, customFieldsToClear, mapping, writeOptions } from '../fields';
import type { EntityOperation } from '../operation';
import { manualOnly } from './create';

export function update(e: EntityUi, example: string): EntityOperation {
	const manual: INodeProperties[] = [
		locator(e),
		...(e.updatePrimary ?? []),
		{
			displayName: 'Update Fields',
			name: 'updateFields',
			type: 'collection',
			placeholder: 'Add Field',
			default: {},
			options: e.updateFields,
		},
	];
	if (e.customFields) manual.push(...customFields(e), customFieldsToClear(e));
	return {
		option: {
			name: 'Update',
			value: 'update',
			action: `Update a ${e.noun} by ID, returning the updated ${e.noun}`,
			description: `Change ${e.writeSummary} of ${e.nouns} by ID, in batches; returns each updated ${e.noun}`,
		},
		params: ['mapping', e.idParam, ...(e.updatePrimary ?? []).map((p) => p.name), 'updateFields', 'customFields', 'customFieldsToClear', 'options'],
		autoParams: ['mapping', 'options', ...(e.updatePrimary ?? []).filter((p) => p.name === 'valuesMode').map((p) => p.name)],
		properties: [
			mapping(e, `id, ${example}`),
			...manual.map((p) => (p.name === 'valuesMode' ? p : manualOnly(p))),
			writeOptions(e, { auto: true }),
		],
	};
}
