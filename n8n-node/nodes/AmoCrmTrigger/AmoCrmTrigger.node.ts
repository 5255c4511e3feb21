import {
	NodeConnectionTypes,
	type IDataObject,
	type IHookFunctions,
	type INodeExecutionData,
	type INodeType,
	type INodeTypeDescription,
	type IWebhookFunctions,
	type IWebhookResponseData,
} from 'n8n-workflow';
import { authenticationProperty, credentialSlots } from '../../shared/authentication';
import { parseWebhook, type CoreError } from '../../shared/core';
import { API_TYPE } from '../../shared/credentials';
import { runForOne } from '../../shared/transport';
import { eventsProperty, optionsProperty } from './descriptions';

type SubscriptionOperation = 'checkExists' | 'subscribe' | 'unsubscribe';

/**
 * Runs one subscription call of the core (src/webhook/subscription.rs) for
 * this node's webhook URL and events; returns the one object it emits.
 */
async function subscription(ctx: IHookFunctions, operation: SubscriptionOperation): Promise<IDataObject> {
	const credentialType = ctx.getNodeParameter('authentication', API_TYPE) as string;
	const params: IDataObject = {
		destination: ctx.getNodeWebhookUrl('default') ?? null,
		events: ctx.getNodeParameter('events', []) as string[],
	};
	return await runForOne(ctx, credentialType, { resource: 'webhook', operation }, params);
}

/**
 * The body exactly as amoCRM sent it. n8n keeps it as `rawBody`; should it
 * be missing, the fields n8n parsed are encoded back (n8n's own parser keeps
 * at most 1,000 of them, so the raw body is preferred).
 */
function rawBody(ctx: IWebhookFunctions): string {
	const raw = (ctx.getRequestObject() as { rawBody?: unknown }).rawBody;
	if (Buffer.isBuffer(raw)) return raw.toString('utf8');
	if (typeof raw === 'string') return raw;
	const pairs: string[] = [];
	const add = (key: string, value: unknown): void => {
		if (value !== null && typeof value === 'object') {
			for (const [k, v] of Object.entries(value)) add(key === '' ? k : `${key}[${k}]`, v);
		} else {
			pairs.push(`${encodeURIComponent(key)}=${encodeURIComponent(String(value ?? ''))}`);
		}
	};
	add('', ctx.getBodyData());
	return pairs.join('&');
}

function errorItem(error: CoreError, body?: string): INodeExecutionData {
	const json: IDataObject = { error: error.message };
	if (error.description) json.description = error.description;
	if (body !== undefined) json.body = body;
	return { json };
}

/**
 * One item per event, or one item with an `error` field when the body cannot
 * be read. Never throws: n8n would answer 500, and amoCRM switches off a
 * destination that keeps failing.
 */
function eventItems(ctx: IWebhookFunctions): INodeExecutionData[] {
	try {
		const options = ctx.getNodeParameter('options', {}) as { normalize?: boolean };
		const parsed = parseWebhook(rawBody(ctx), { normalize: options.normalize !== false });
		if (!parsed.ok) return [errorItem(parsed.error)];
		const { events, error, preview } = parsed.value;
		if (error) return [errorItem(error, preview)];
		return (events ?? []).map((json) => ({ json }));
	} catch (error) {
		return [errorItem({ kind: 'internal', message: `The amoCRM webhook could not be handled: ${(error as Error).message}` })];
	}
}

export class AmoCrmTrigger implements INodeType {
	description: INodeTypeDescription = {
		// n8n's node panel drops " Trigger" from a trigger's name: it lists this
		// one as "AmoCRM Webhook", beside the entity nodes.
		displayName: 'AmoCRM Webhook Trigger',
		name: 'amoCrmTrigger',
		icon: { light: 'file:../../icons/amocrm.svg', dark: 'file:../../icons/amocrm.dark.svg' },
		group: ['trigger'],
		version: 1,
		subtitle: '={{$parameter["events"].join(", ")}}',
		description: 'Starts the workflow when amoCRM / Kommo reports changes to leads, contacts or companies',
		defaults: { name: 'AmoCRM Webhook Trigger' },
		inputs: [],
		outputs: [NodeConnectionTypes.Main],
		credentials: credentialSlots,
		webhooks: [
			{
				name: 'default',
				httpMethod: 'POST',
				// Answer at once: amoCRM switches off a destination that is slow or fails.
				responseMode: 'onReceived',
				path: 'webhook',
			},
		],
		properties: [
			authenticationProperty,
			{
				displayName:
					'Activating the workflow subscribes this node\'s URL to the chosen events in amoCRM (Settings → Integrations → Web hooks); deactivating it removes the subscription. Only an amoCRM administrator may manage webhooks.',
				name: 'notice',
				type: 'notice',
				default: '',
			},
			eventsProperty,
			optionsProperty,
		],
	};

	webhookMethods = {
		default: {
			async checkExists(this: IHookFunctions): Promise<boolean> {
				// False also for a hook amoCRM disabled or whose events differ:
				// create() then subscribes again, which re-enables and updates it.
				return (await subscription(this, 'checkExists')).exists === true;
			},
			async create(this: IHookFunctions): Promise<boolean> {
				await subscription(this, 'subscribe');
				return true;
			},
			async delete(this: IHookFunctions): Promise<boolean> {
				// A hook already gone counts as removed. Never throw here: that
				// would keep the workflow from being deactivated (say, after the
				// credential was revoked); the failure goes to n8n's log.
				try {
					await subscription(this, 'unsubscribe');
					return true;
				} catch (error) {
					this.logger.warn(`AmoCRM Trigger: the amoCRM webhook subscription could not be removed: ${(error as Error).message}`);
					return false;
				}
			},
		},
	};

	async webhook(this: IWebhookFunctions): Promise<IWebhookResponseData> {
		return { workflowData: [eventItems(this)] };
	}
}
