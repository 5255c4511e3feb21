import type { FieldType, ILoadOptionsFunctions, ResourceMapperField, ResourceMapperFields } from 'n8n-workflow';
import { lookup } from './lookup';

interface CoreField {
	id: string;
	name: string;
	type: string;
	/** The input the core says the amoCRM type needs. */
	input: 'string' | 'number' | 'boolean' | 'dateTime' | 'options' | 'multiOptions' | 'url';
	options: Array<{ name: string; value: string }>;
}

/** The account's custom fields of the node's entity, each with the input its type deserves. */
export async function getCustomFieldColumns(this: ILoadOptionsFunctions): Promise<ResourceMapperFields> {
	const { fields } = (await lookup(this, 'listCustomFields')) as unknown as { fields: CoreField[] };
	return {
		fields: fields.map((f): ResourceMapperField => {
			// n8n's mapper has no multi-select input: several options are typed
			// as text, separated by commas (the core matches them by name or ID).
			const multi = f.input === 'multiOptions';
			return {
				id: f.id,
				displayName: multi ? `${f.name} (options separated by commas)` : f.name,
				required: false,
				defaultMatch: false,
				display: true,
				type: (multi ? 'string' : f.input) as FieldType,
				options: f.input === 'options' ? f.options : undefined,
				canBeUsedToMatch: false,
			};
		}),
		emptyFieldsNotice: 'The account has no custom fields for this record type',
	};
}
