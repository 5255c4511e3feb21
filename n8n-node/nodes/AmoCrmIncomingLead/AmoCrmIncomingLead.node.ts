import { entityNode } from '../../shared/entity/node';
import { INCOMING_LEAD, INCOMING_LEAD_OPERATIONS } from './incomingLead';

export class AmoCrmIncomingLead extends entityNode(
	{
		displayName: 'AmoCRM Incoming Lead',
		name: 'amoCrmIncomingLead',
		subtitle: '={{$parameter["operation"] + ": incoming lead"}}',
		description:
			'amoCRM / Kommo incoming leads ("unsorted"): create them from web forms and calls in batches, list and get them, accept, decline or link them, and count them',
	},
	INCOMING_LEAD,
	INCOMING_LEAD_OPERATIONS,
) {}
