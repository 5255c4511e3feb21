import type { INodeProperties } from 'n8n-workflow';
import type { EntityUi } from '../descriptor';
import { customFields, writeOptions } from '../fields';
import type { EntityOperation } from '../operation';

/** What Find or Create does with a match and without one. */
export function findOrCreateOptions(e: EntityUi, extra: INodeProperties[] = []): INodeProperties {
	const options = writeOptions(e);
	const choices: INodeProperties[] = [
		...(options.options as INodeProperties[]),
		{
				displayName: 'Create If Missing',
				name: 'createIfMissing',
				type: 'boolean',
				default: true,
				description: `Whether to create a ${e.noun} when none matches; otherwise the item is output with match "none"`,
			},
			{
				displayName: 'Update the Found Record',
				name: 'updateFound',
				type: 'options',
				default: 'no',
				options: [
					{ name: 'No', value: 'no', description: `Output the ${e.noun} as it is` },
					{
						name: 'Fill Empty Fields',
						value: 'fillEmpty',
						description: `Write the item's fields only where the ${e.noun} has none, and add new phones and e-mails`,
					},
					{ name: 'Overwrite', value: 'overwrite', description: `Write every field the item gives, and add new phones and e-mails` },
				],
			},
			{
				displayName: 'When Several Match',
				name: 'whenSeveral',
				type: 'options',
				default: 'oldest',
				options: [
					{ name: 'Use the Oldest', value: 'oldest' },
					{ name: 'Use the Most Recently Updated', value: 'newest' },
					{ name: 'Fail the Item, Naming Them', value: 'fail' },
				],
			},
		...extra,
	];
	return { ...options, options: choices.sort((a, b) => a.displayName.localeCompare(b.displayName)) };
}

/** Find or Create: `find` are the fields matched on; the rest are written to a new (or updated) record. */
export function findOrCreate(e: EntityUi, find: INodeProperties[], by: string, extraOptions: INodeProperties[] = []): EntityOperation {
	const properties: INodeProperties[] = [
		...find,
		...e.createPrimary.filter((p) => !find.some((f) => f.name === p.name) && !['phones', 'emails'].includes(p.name)),
		{
			displayName: 'Additional Fields',
			name: 'additionalFields',
			type: 'collection',
			placeholder: 'Add Field',
			default: {},
			description: `Written to a new ${e.noun}, and to a found one when Update the Found Record says so`,
			options: e.createFields,
		},
		...customFields(e),
		findOrCreateOptions(e, extraOptions),
	];
	return {
		option: {
			name: 'Find or Create',
			value: 'findOrCreate',
			action: `Find a ${e.noun} by ${by} or create it, returning the ${e.noun}`,
			description: `Find the ${e.noun} whose ${by} matches exactly (after normalisation), or create one; returns the ${e.noun} with match "found" or "created"`,
		},
		params: [...new Set(properties.map((p) => p.name))],
		properties,
	};
}
