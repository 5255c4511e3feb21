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
	let fields: CoreField[];
	try {
		({ fields } = (await lookup(this, 'listCustomFields')) as unknown as { fields: CoreField[] });
	} catch (error) {
		// n8n's mapper shows no error text, only its empty-list notice: the
		// reason (a credential not connected yet, say) goes there.
		return { fields: [], emptyFieldsNotice: (error as Error).message };
	}
	return {
		fields: fields.map((f): ResourceMapperField => {
			// n8n's mapper has no multi-select input: several options are typed
			// as text, separated by commas (the core matches them by name or
			// ID; the notice above the mapper says so). The field's own name
			// only, so that long names are not cut off further.
			const multi = f.input === 'multiOptions';
			return {
				id: f.id,
				displayName: f.name,
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
