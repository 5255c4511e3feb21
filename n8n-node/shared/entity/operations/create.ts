import type { INodeProperties } from 'n8n-workflow';
import type { EntityUi } from '../descriptor';
import { customFields, mapping, writeOptions } from '../fields';
import type { EntityOperation } from '../operation';

/** Shown only when the fields come from the parameters. */
export const manualOnly = (p: INodeProperties): INodeProperties => ({
	...p,
	displayOptions: { ...p.displayOptions, show: { ...p.displayOptions?.show, mapping: ['manual'] } },
});

export function create(e: EntityUi, example: string): EntityOperation {
	const manual: INodeProperties[] = [...e.createPrimary];
	if (e.createFields.length) {
		manual.push({
			displayName: 'Additional Fields',
			name: 'additionalFields',
			type: 'collection',
			placeholder: 'Add Field',
			default: {},
			options: e.createFields,
		});
	}
	if (e.customFields) manual.push(...customFields(e));
	return {
		option: {
			name: 'Create',
			value: 'create',
			action: `Create a ${e.noun} from its fields, returning the new ${e.noun}`,
			description: `Create ${e.nouns} (${e.writeSummary}) in batches; returns each new ${e.noun}, paired with its input item`,
		},
		params: ['mapping', ...e.createPrimary.map((p) => p.name), 'additionalFields', 'customFields', 'options'],
		autoParams: ['mapping', 'options'],
		properties: [mapping(e, example), ...manual.map(manualOnly), writeOptions(e, { auto: true })],
	};
}
