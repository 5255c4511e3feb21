// Deterministic seed data: the account catalog (users, pipelines, custom
// fields, loss reasons, tags, a product catalog) plus optional generated leads,
// contacts, companies and notes. Same seed spec → same data (seeded PRNG, fixed
// timestamps).
import {
  ACCOUNT_ID, SUBDOMAIN, emptyData, nextId, newLead, newContact, newCompany, newCustomer, addNote, ensureTag,
} from './store.mjs';
import { addCatalog, addElement, fieldKeyOf } from './catalogs.mjs';
import { addTransaction } from './customers.mjs';
import { createTask } from './tasks.mjs';

/** mulberry32: tiny, fast, good enough for test data. */
export function prng(seed) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  next.int = (lo, hi) => lo + Math.floor(next() * (hi - lo + 1));
  next.pick = (arr) => arr[Math.floor(next() * arr.length)];
  next.chance = (p) => next() < p;
  return next;
}

export const MAIN_USER_ID = 8000001;
const SEED_EPOCH = 1704067200; // 2024-01-01T00:00:00Z — fixed so data is reproducible

export const USERS = [
  { id: 8000001, name: 'Алексей Смирнов', email: 'alexey@demo.example', lang: 'ru', is_admin: true, group_id: 0 },
  { id: 8000002, name: 'Мария Иванова', email: 'maria@demo.example', lang: 'ru', is_admin: false, group_id: 0 },
  { id: 8000003, name: 'John Carter', email: 'john@demo.example', lang: 'en', is_admin: false, group_id: 0 },
  { id: 8000004, name: 'Ольга Петрова', email: 'olga@demo.example', lang: 'ru', is_admin: false, group_id: 351001 },
];

const WON = 142; // reference: 142 = won, 143 = lost, present in every pipeline
const LOST = 143;

function status(id, name, sort, color, pipelineId, extra = {}) {
  return { id, name, sort, is_editable: true, pipeline_id: pipelineId, color, type: 0, account_id: ACCOUNT_ID, ...extra };
}

function pipeline(id, name, sort, isMain, stages) {
  const statuses = [
    status(stages[0][0], 'Неразобранное', 10, '#c1c1c1', id, { is_editable: false, type: 1 }), // type 1 = unsorted
    ...stages.slice(1).map(([sid, sname, color], i) => status(sid, sname, 20 + i * 10, color, id)),
    status(WON, 'Успешно реализовано', 10000, '#CCFF66', id, { is_editable: false }),
    status(LOST, 'Закрыто и не реализовано', 11000, '#D5D8DB', id, { is_editable: false }),
  ];
  return { id, name, sort, is_main: isMain, is_unsorted_on: true, is_archive: false, account_id: ACCOUNT_ID, statuses };
}

function field(state, entity, f) {
  const enums = f.enums ? f.enums.map((value, i) => ({ id: nextId(state, 'enum'), value, sort: (i + 1) * 10 })) : null;
  const rec = {
    id: f.id, name: f.name, type: f.type, account_id: ACCOUNT_ID, code: f.code ?? null, sort: f.sort,
    is_api_only: false, enums, group_id: null, required_statuses: [], is_deletable: !f.code,
    is_predefined: !!f.predefined, entity_type: f.catalogId ? 'catalogs' : entity, remind: null, settings: null, nested: null,
    ...(f.catalogId ? { catalog_id: f.catalogId } : {}),
  };
  state.data.customFields[entity].set(rec.id, rec);
  return rec;
}

const LEAD_FIELDS = [
  { id: 900001, name: 'Источник', type: 'select', sort: 510, enums: ['Сайт', 'Реклама', 'Рекомендация', 'Выставка', 'Холодный звонок'] },
  { id: 900002, name: 'Бюджет проекта', type: 'numeric', sort: 520 },
  { id: 900003, name: 'Срочная сделка', type: 'checkbox', sort: 530 },
  { id: 900004, name: 'Услуги', type: 'multiselect', sort: 540, enums: ['Консалтинг', 'Внедрение', 'Поддержка', 'Обучение', 'Интеграция'] },
  { id: 900005, name: 'Дата договора', type: 'date', sort: 550 },
  { id: 900006, name: 'Дата встречи', type: 'date_time', sort: 560 },
  { id: 900007, name: 'Сайт клиента', type: 'url', sort: 570 },
  { id: 900008, name: 'Комментарий менеджера', type: 'textarea', sort: 580 },
  { id: 900009, name: 'Приоритет', type: 'radiobutton', sort: 590, enums: ['Высокий', 'Средний', 'Низкий'] },
  { id: 900010, name: 'Номер договора', type: 'text', sort: 600, code: 'CONTRACT_NO' },
  { id: 900011, name: 'utm_source', type: 'tracking_data', sort: 610, code: 'UTM_SOURCE', predefined: true },
  { id: 900012, name: 'Город', type: 'text', sort: 620 },
];
export const LF = {
  source: 900001, budget: 900002, urgent: 900003, services: 900004, contractDate: 900005,
  meeting: 900006, site: 900007, comment: 900008, priority: 900009, contractNo: 900010, utm: 900011, city: 900012,
};

const PHONE_ENUMS = ['WORK', 'WORKDD', 'MOB', 'FAX', 'HOME', 'OTHER'];
const EMAIL_ENUMS = ['WORK', 'PRIV', 'OTHER'];
const CONTACT_FIELDS = [
  { id: 900101, name: 'Должность', type: 'text', sort: 2, code: 'POSITION', predefined: true },
  { id: 900102, name: 'Телефон', type: 'multitext', sort: 4, code: 'PHONE', enums: PHONE_ENUMS, predefined: true },
  { id: 900103, name: 'Email', type: 'multitext', sort: 6, code: 'EMAIL', enums: EMAIL_ENUMS, predefined: true },
];
const COMPANY_FIELDS = [
  { id: 900201, name: 'Телефон', type: 'multitext', sort: 4, code: 'PHONE', enums: PHONE_ENUMS, predefined: true },
  { id: 900202, name: 'Email', type: 'multitext', sort: 6, code: 'EMAIL', enums: EMAIL_ENUMS, predefined: true },
  { id: 900203, name: 'Web', type: 'url', sort: 8, code: 'WEB', predefined: true },
  { id: 900204, name: 'Адрес', type: 'textarea', sort: 10, code: 'ADDRESS', predefined: true },
];

/** Account, users, pipelines, fields, loss reasons, tags, catalog. No randomness. */
export function buildBase(state) {
  const d = state.data;
  d.account = {
    id: ACCOUNT_ID, name: 'Demo Company', subdomain: SUBDOMAIN,
    created_at: 1577836800, created_by: MAIN_USER_ID, updated_at: 1704067200, updated_by: MAIN_USER_ID,
    country: 'RU', currency: 'RUB', currency_symbol: '₽', customers_mode: 'periodicity',
    is_unsorted_on: true, mobile_feature_version: 0, is_loss_reason_enabled: true,
    is_helpbot_enabled: false, is_technical_account: false, contact_name_display_order: 1,
    amojo_id: '0b8a3f0e-5c1d-4e2f-9a7b-31000001d3e0', uuid: 'c2f4e6a8-31000001-4d5e-8f90-a1b2c3d4e5f6',
    top_level_domain: 'ru', zone: 'amocrm.ru', base_domain: 'amocrm.ru',
  };
  d.groups = [{ id: 0, name: 'Отдел продаж', uuid: null }, { id: 351001, name: 'Партнёрский отдел', uuid: null }];
  for (const u of USERS) d.users.set(u.id, { ...u });
  d.pipelines.set(7000001, pipeline(7000001, 'Sales', 1, true, [
    [61000001], [61000002, 'Первичный контакт', '#99ccff'], [61000003, 'Переговоры', '#ffff99'],
    [61000004, 'Принимают решение', '#ffcc66'], [61000005, 'Согласование договора', '#ffcccc'],
  ]));
  d.pipelines.set(7000002, pipeline(7000002, 'Partners', 2, false, [
    [61000011], [61000012, 'Новая заявка', '#d6eaff'], [61000013, 'Проверка партнёра', '#ebffb1'],
    [61000014, 'Подписание соглашения', '#87f2c0'], [61000015, 'Онбординг', '#f9deff'],
  ]));
  for (const f of LEAD_FIELDS) field(state, 'leads', f);
  for (const f of CONTACT_FIELDS) field(state, 'contacts', f);
  for (const f of COMPANY_FIELDS) field(state, 'companies', f);
  ['Дорого', 'Выбрали конкурента', 'Нет бюджета', 'Не дозвонились'].forEach((name, i) => {
    const id = 3000001 + i;
    d.lossReasons.set(id, { id, name, sort: (i + 1) * 10, created_at: 1600000000, updated_at: 1600000000 });
  });
  for (const t of ['VIP', 'Опт', 'Повторная продажа', 'Срочно', 'Выставка', 'Партнёр']) ensureTag(state, 'leads', t);
  for (const t of ['Клиент', 'Поставщик']) ensureTag(state, 'contacts', t);
  // products catalog 5001 (type products: SKU, PRICE, DESCRIPTION fields) with elements 600001–600006
  const products = addCatalog(state, {
    name: 'Товары', type: 'products', sort: 10, can_add_elements: true, can_link_multiple: true, can_show_in_cards: true,
    can_be_deleted: false, created_by: MAIN_USER_ID, created_at: 1600000000,
  });
  for (const f of PRODUCT_FIELDS) field(state, fieldKeyOf(products.id), { ...f, catalogId: products.id });
  ['Лицензия «Базовая»', 'Лицензия «Расширенная»', 'Внедрение под ключ', 'Обучение персонала', 'Интеграция с 1С', 'Техподдержка (год)']
    .forEach((name, i) => {
      addElement(state, products.id, {
        name, created_by: MAIN_USER_ID, created_at: 1600000000 + i * 60,
        cf: {
          [PF.sku]: [{ value: PRODUCT_SKUS[i] }],
          [PF.price]: [{ value: String((i + 1) * 15000) }],
        },
      });
    });
  // customers: fields, statuses (periodicity mode), segments (segments mode)
  for (const f of CUSTOMER_FIELDS) field(state, 'customers', f);
  CUSTOMER_STATUSES.forEach(([name, type, color, isDefault], i) => {
    const id = nextId(state, 'customerStatus');
    d.customerStatuses.set(id, { id, name, sort: (i + 1) * 10, is_default: isDefault, color, type, conditions: [] });
  });
  for (const [name, color] of [['Wholesale', '10599d'], ['Retail', 'ff8f92']]) {
    const id = nextId(state, 'segment');
    d.segments.set(id, { id, name, color, created_at: 1600000000, updated_at: 1600000000, available_products_price_types: [PF.price] });
  }
  // account task types after the system ones (1 FOLLOW_UP, 2 MEETING)
  d.taskTypes.push(
    { id: 2190001, name: 'Send proposal', color: '#ffcc66', icon_id: 5, code: null },
    { id: 2190002, name: 'Product demo', color: '#99ccff', icon_id: 3, code: null },
  );
}

const PRODUCT_FIELDS = [
  { id: 900401, name: 'SKU', type: 'text', sort: 10, code: 'SKU', predefined: true },
  { id: 900402, name: 'Price', type: 'price', sort: 20, code: 'PRICE', predefined: true },
  { id: 900403, name: 'Description', type: 'textarea', sort: 30, code: 'DESCRIPTION', predefined: true },
];
export const PF = { sku: 900401, price: 900402, description: 900403 };
const PRODUCT_SKUS = ['LIC-BASIC', 'LIC-PRO', 'IMPL-TURNKEY', 'TRAIN-STAFF', 'INT-1C', 'SUPPORT-1Y'];
const CUSTOMER_FIELDS = [
  { id: 900301, name: 'Loyalty card', type: 'text', sort: 10 },
  { id: 900302, name: 'Preferred channel', type: 'select', sort: 20, enums: ['Email', 'Phone', 'Messenger'] },
  { id: 900303, name: 'Contract until', type: 'date', sort: 30 },
];
// [name, type (0 regular, 1 purchase expected, 2 did not buy, 3 closed, 4 bought recently), color, is_default]
const CUSTOMER_STATUSES = [
  ['New customer', 0, '#c1e0ff', true],
  ['Bought recently', 4, '#87f2c0', false],
  ['Purchase expected', 1, '#fffd7f', false],
  ['Did not buy', 2, '#ff8f92', false],
  ['Closed', 3, '#e6e8ea', false],
];

// ---- the demo in English ---------------------------------------------------------
// The demo account speaks one language, the README's: the base catalog's
// Russian names (kept for the tests that read them) are renamed by ID.
const EN_CITIES = ['London', 'Berlin', 'New York', 'Toronto', 'Sydney', 'Dublin', 'Madrid'];
const EN_NOTE_TEXTS = ['The client asked to call back tomorrow', 'Sent the commercial proposal', 'Discussed delivery dates',
  'Client asked for a discount', 'Meeting scheduled next week', 'The contract is with their lawyers'];
const EN = {
  users: { 8000001: 'Alexey Smirnov', 8000002: 'Maria Ivanova', 8000004: 'Olga Petrova' },
  groups: { 0: 'Sales team', 351001: 'Partner team' },
  statuses: {
    61000001: 'Incoming', 61000011: 'Incoming', 61000002: 'First contact', 61000003: 'Negotiation', 61000004: 'Decision making',
    61000005: 'Contract approval', 61000012: 'New application', 61000013: 'Partner check', 61000014: 'Agreement signing',
    61000015: 'Onboarding', [WON]: 'Closed - won', [LOST]: 'Closed - lost',
  },
  fields: {
    900001: ['Source', ['Website', 'Advertising', 'Referral', 'Exhibition', 'Cold call']], 900002: ['Project budget'], 900003: ['Urgent deal'],
    900004: ['Services', ['Consulting', 'Implementation', 'Support', 'Training', 'Integration']], 900005: ['Contract date'],
    900006: ['Meeting date'], 900007: ['Client website'], 900008: ['Manager comment'], 900009: ['Priority', ['High', 'Medium', 'Low']],
    900010: ['Contract No.'], 900012: ['City'], 900101: ['Position'], 900102: ['Phone'], 900201: ['Phone'], 900204: ['Address'],
  },
  lossReasons: { 3000001: 'Too expensive', 3000002: 'Chose a competitor', 3000003: 'No budget', 3000004: 'Could not reach them' },
  leadTags: { VIP: 'VIP', Опт: 'Wholesale', 'Повторная продажа': 'Repeat sale', Срочно: 'Urgent', Выставка: 'Exhibition', Партнёр: 'Partner' },
  contactTags: { Клиент: 'Customer', Поставщик: 'Supplier' },
  products: ['Licence "Basic"', 'Licence "Extended"', 'Turnkey implementation', 'Staff training', '1C integration', 'Support (one year)'],
};

function inEnglish(state) {
  const d = state.data;
  for (const [id, name] of Object.entries(EN.users)) if (d.users.has(+id)) d.users.get(+id).name = name;
  for (const g of d.groups) g.name = EN.groups[g.id] ?? g.name;
  for (const p of d.pipelines.values()) for (const st of p.statuses) st.name = EN.statuses[st.id] ?? st.name;
  const renamedEnums = new Map();
  for (const entity of Object.keys(d.customFields)) {
    for (const f of d.customFields[entity].values()) {
      const [name, enums] = EN.fields[f.id] ?? [];
      if (!name) continue;
      f.name = name;
      if (enums && f.enums) f.enums.forEach((e, i) => { e.value = enums[i] ?? e.value; renamedEnums.set(e.id, e.value); });
    }
  }
  // Field values that name an option carry its text too.
  for (const store of [d.leads, d.contacts, d.companies]) {
    for (const r of store.values()) {
      for (const values of Object.values(r.cf ?? {})) for (const v of values) if (renamedEnums.has(v.enum_id)) v.value = renamedEnums.get(v.enum_id);
    }
  }
  for (const [id, name] of Object.entries(EN.lossReasons)) if (d.lossReasons.has(+id)) d.lossReasons.get(+id).name = name;
  for (const [entity, names] of [['leads', EN.leadTags], ['contacts', EN.contactTags]]) {
    for (const t of d.tags[entity].values()) {
      const name = names[t.name];
      if (!name) continue;
      d.tagIndex[entity].delete(t.name.toLowerCase());
      d.tagIndex[entity].set(name.toLowerCase(), t.id);
      t.name = name;
    }
  }
  const products = [...d.catalogs.values()].find((c) => c.type === 'products');
  if (products) {
    products.name = 'Products';
    [...d.catalogElements.values()].filter((e) => e.catalog_id === products.id).forEach((e, i) => { e.name = EN.products[i] ?? e.name; });
  }
}

// ---- generated leads ---------------------------------------------------------
const RU_DEALS = ['Поставка оборудования', 'Внедрение CRM', 'Разработка сайта', 'Аудит отдела продаж', 'Годовая подписка',
  'Обучение менеджеров', 'Интеграция с 1С', 'Консультация', 'Аренда склада', 'Ремонт офиса', 'Закупка мебели', 'Настройка телефонии'];
const EN_DEALS = ['Website redesign', 'CRM rollout', 'Annual license', 'Consulting package', 'Hardware supply',
  'Staff training', 'Cloud migration', 'Support contract'];
const RU_COMPANIES = ['ООО «Ромашка»', 'АО «Вектор»', 'ИП Козлов', 'ООО «Северный ветер»', 'ЗАО «Альфа-Трейд»',
  'ООО «ТехноСфера»', 'ООО «Горизонт»', 'АО «СтройИнвест»', 'ООО «Логистик Плюс»', 'ООО «Медиагруппа Восток»'];
const EN_COMPANIES = ['Acme Corp', 'Globex', 'Initech', 'Umbrella LLC', 'Stark Industries', 'Wayne Enterprises', 'Hooli'];
const RU_FIRST = ['Иван', 'Анна', 'Дмитрий', 'Елена', 'Сергей', 'Наталья', 'Павел', 'Ксения', 'Андрей', 'Татьяна'];
const RU_LAST = ['Кузнецов', 'Соколова', 'Попов', 'Лебедева', 'Новиков', 'Морозова', 'Волков', 'Зайцева', 'Фёдоров', 'Орлова'];
const EN_FIRST = ['James', 'Emily', 'Michael', 'Sarah', 'David', 'Laura', 'Robert', 'Anna'];
const EN_LAST = ['Smith', 'Johnson', 'Brown', 'Taylor', 'Wilson', 'Davies', 'Clark', 'Lewis'];
const CITIES = ['Москва', 'Санкт-Петербург', 'Казань', 'Новосибирск', 'Екатеринбург', 'London', 'Berlin'];
const NOTE_TEXTS = ['Клиент просит перезвонить завтра', 'Отправили коммерческое предложение', 'Обсудили сроки поставки',
  'Client asked for a discount', 'Meeting scheduled next week', 'Договор на согласовании у юристов'];

function ruFemale(last, first) {
  // «Соколова» etc. are already feminine; a male surname for a female first name gets an «а».
  const female = /[ая]$/.test(first);
  return female && !/а$/.test(last) ? `${last}а` : !female && /ова$|ева$|ина$/.test(last) ? last.slice(0, -1) : last;
}

const TR = { а: 'a', б: 'b', в: 'v', г: 'g', д: 'd', е: 'e', ё: 'e', ж: 'zh', з: 'z', и: 'i', й: 'y', к: 'k', л: 'l', м: 'm',
  н: 'n', о: 'o', п: 'p', р: 'r', с: 's', т: 't', у: 'u', ф: 'f', х: 'kh', ц: 'ts', ч: 'ch', ш: 'sh', щ: 'sch', ъ: '', ы: 'y', ь: '',
  э: 'e', ю: 'yu', я: 'ya' };
function translit(s) {
  return [...s.toLowerCase()].map((ch) => TR[ch] ?? ch).join('').replace(/[^a-z0-9]/g, '');
}

export function normalizeSeed(spec) {
  if (spec === undefined || spec === null || spec === 'base' || spec === false) return { leads: 0, samples: 'base' };
  if (spec === 'demo' || spec === true) return demoSpec();
  if (typeof spec === 'number') return { leads: spec };
  if (typeof spec === 'object') return spec.demo ? { ...demoSpec(), ...spec } : { ...spec };
  throw new Error(`unknown seed spec ${spec}`);
}

function demoSpec() {
  return { demo: true, samples: 'demo', english: true, leads: 300, contactsPerLead: 1, companyRatio: 0.6, maxNotesPerLead: 3, random: 42 };
}

/** Rebuilds all CRM data from a seed spec (see normalizeSeed). */
export function applySeed(state, rawSpec) {
  const spec = normalizeSeed(rawSpec);
  state.data = emptyData();
  buildBase(state);
  const created = state.stats?.leadsCreated;
  // Samples first: their fixed ids (39…, 49…, 69…) sit below the counters, so stores stay id-ordered.
  if (spec.samples) addSamples(state);
  if (spec.leads > 0) generateLeads(state, spec);
  if (spec.samples === 'demo') addDemoExtras(state);
  if (spec.english) inEnglish(state);
  if (state.stats) state.stats.leadsCreated = created; // seeding is not "creating leads"
  state.data.events = []; // a seed is the account's past: no events
  state.pendingHooks = [];
  return spec;
}

// ---- named samples ('base' and 'demo' seeds) ---------------------------------------
const day = 86400;

function multitext(state, entity, code, value, enumCode) {
  const f = [...state.data.customFields[entity].values()].find((x) => x.code === code);
  const e = f.enums.find((x) => x.value === enumCode);
  return { value, enum_id: e.id, enum_code: e.value };
}

function cfOf(state, entity, spec) {
  const cf = {};
  const byCode = (code) => [...state.data.customFields[entity].values()].find((x) => x.code === code);
  for (const [code, values] of Object.entries(spec)) {
    const f = byCode(code);
    cf[f.id] = f.type === 'multitext' ? values.map(([v, en]) => multitext(state, entity, code, v, en)) : values.map((v) => ({ value: v }));
  }
  return cf;
}

// Phones in varied formats and e-mails in mixed case (README "The account").
export const SAMPLE_CONTACTS = [
  { id: 39000001, first: 'John', last: 'Smith', company: 49000001, tags: ['Клиент'],
    cf: { PHONE: [['+7 (900) 123-45-67', 'MOB']], EMAIL: [['John.Smith@Example.com', 'WORK']], POSITION: ['CEO'] } },
  { id: 39000002, first: 'Emily', last: 'Johnson', tags: [],
    cf: { PHONE: [['89001112233', 'WORK'], ['+1 212 555 0199', 'HOME']], EMAIL: [['EMILY.J@GMAIL.COM', 'PRIV']] } },
  { id: 39000003, first: 'Michael', last: 'Brown', company: 49000001, tags: ['Поставщик'],
    cf: { PHONE: [['8 (812) 700-00-01', 'WORKDD']], EMAIL: [['m.brown@Acme-Corp.com', 'WORK'], ['Mike.Brown@Mail.Example', 'PRIV']], POSITION: ['Purchasing manager'] } },
  { id: 39000004, first: 'Sarah', last: 'Taylor', tags: [],
    cf: { PHONE: [['+7 900 555 66 77', 'MOB']], EMAIL: [['sarah.taylor@example.com', 'WORK']] } },
  { id: 39000005, first: 'Laura', last: 'Davies', tags: [], cf: { EMAIL: [['Laura.Davies@Example.org', 'OTHER']] } },
  { id: 39000006, first: 'Robert', last: 'Clark', company: 49000002, tags: [],
    cf: { PHONE: [['+44 20 7946 0958', 'WORK'], ['8-495-765-43-21', 'FAX']], EMAIL: [['Robert.Clark@Globex.co.uk', 'WORK']] } },
];
export const SAMPLE_COMPANIES = [
  { id: 49000001, name: 'Acme Corp', tags: ['Key account'],
    cf: { PHONE: [['+7 (495) 123-45-67', 'WORK']], EMAIL: [['Sales@Acme-Corp.com', 'WORK']], WEB: ['https://acme-corp.example'], ADDRESS: ['1 Industrial Way, Springfield'] } },
  { id: 49000002, name: 'Globex LLC', tags: [],
    cf: { PHONE: [['8-800-555-35-35', 'OTHER']], EMAIL: [['INFO@GLOBEX.EXAMPLE', 'WORK']], WEB: ['https://globex.example'] } },
  { id: 49000003, name: 'Initech', tags: [], cf: { PHONE: [['+1 (212) 555-0100', 'WORK']], EMAIL: [['hello@initech.example', 'OTHER']] } },
];

function sampleNote(state, id, entityType, entityId, text, at) {
  addNote(state, {
    id, entity_type: entityType, entity_id: entityId, created_by: MAIN_USER_ID, updated_by: MAIN_USER_ID, created_at: at,
    updated_at: at, responsible_user_id: MAIN_USER_ID, group_id: 0, note_type: 'common', params: { text }, is_pinned: false,
  });
}

function sampleCustomer(state, f) {
  const d = state.data;
  const c = newCustomer({
    id: nextId(state, 'customer'), name: f.name, next_price: f.next_price, next_date: f.next_date, periodicity: f.periodicity,
    status_id: f.status_id, responsible_user_id: f.responsible ?? MAIN_USER_ID, created_by: MAIN_USER_ID, updated_by: MAIN_USER_ID,
    created_at: f.created_at, segments: f.segments ?? [], contacts: f.contacts ?? [], company_id: f.company ?? null,
    tags: (f.tags ?? []).map((t) => ensureTag(state, 'customers', t).id),
  });
  c.group_id = d.users.get(c.responsible_user_id).group_id;
  for (const [fieldId, value] of Object.entries(f.cf ?? {})) {
    const field = d.customFields.customers.get(Number(fieldId));
    const e = field.enums?.find((x) => x.value === value);
    c.cf[fieldId] = [e ? { value: e.value, enum_id: e.id, enum_code: null } : { value }];
  }
  d.customers.set(c.id, c);
  for (const t of f.transactions ?? []) {
    addTransaction(state, c, { price: t.price, comment: t.comment, completed_at: t.at, created_at: t.at, created_by: MAIN_USER_ID, elements: t.elements ?? [] }, MAIN_USER_ID);
  }
  return c;
}

/** Named contacts, companies, customers, tasks and notes of the 'base' and 'demo' seeds. */
function addSamples(state) {
  const d = state.data;
  SAMPLE_COMPANIES.forEach((s, i) => {
    d.companies.set(s.id, newCompany({
      id: s.id, name: s.name, responsible_user_id: MAIN_USER_ID, created_by: MAIN_USER_ID, updated_by: MAIN_USER_ID,
      created_at: SEED_EPOCH + i * day, cf: cfOf(state, 'companies', s.cf), tags: s.tags.map((t) => ensureTag(state, 'companies', t).id),
    }));
  });
  SAMPLE_CONTACTS.forEach((s, i) => {
    const responsible = [8000001, 8000002, 8000003][i % 3];
    d.contacts.set(s.id, newContact({
      id: s.id, name: `${s.first} ${s.last}`, first_name: s.first, last_name: s.last, responsible_user_id: responsible,
      group_id: d.users.get(responsible).group_id, created_by: MAIN_USER_ID, updated_by: MAIN_USER_ID, created_at: SEED_EPOCH + i * day + 3600,
      company_id: s.company ?? null, cf: cfOf(state, 'contacts', s.cf), tags: s.tags.map((t) => ensureTag(state, 'contacts', t).id),
    }));
  });
  // The false positive of a phone search: 9001234567 is John Smith's phone, and also in a note on Sarah Taylor.
  sampleNote(state, 69000001, 'contacts', 39000004, 'Referred by John Smith, his mobile is 79001234567', SEED_EPOCH + 4 * day);
  sampleNote(state, 69000002, 'companies', 49000001, 'Signed the framework agreement for 2024', SEED_EPOCH + 5 * day);
  const acme = sampleCustomer(state, {
    name: 'Acme Corp annual supply', next_price: 180000, next_date: SEED_EPOCH + 395 * day, periodicity: 365, status_id: 62000002,
    created_at: SEED_EPOCH + 7 * day, segments: [401], contacts: [{ id: 39000001, is_main: true }, { id: 39000003, is_main: false }],
    company: 49000001, tags: ['Wholesale'], cf: { 900301: 'AC-0001', 900302: 'Email' },
    transactions: [{ price: 180000, comment: 'Annual supply 2024', at: SEED_EPOCH + 30 * day, elements: [{ id: 600002, catalog_id: 5001, quantity: 1 }] }],
  });
  const emily = sampleCustomer(state, {
    name: 'Emily Johnson subscription', next_price: 4900, next_date: SEED_EPOCH + 60 * day, periodicity: 30, status_id: 62000001,
    created_at: SEED_EPOCH + 8 * day, segments: [402], contacts: [{ id: 39000002, is_main: true }], cf: { 900302: 'Messenger' },
    transactions: [{ price: 4900, comment: 'January', at: SEED_EPOCH + 10 * day }, { price: 4900, comment: 'February', at: SEED_EPOCH + 41 * day }],
  });
  sampleNote(state, 69000003, 'customers', acme.id, 'Prefers invoices at the start of the month', SEED_EPOCH + 9 * day);
  const task = (text, entityType, entityId, typeId, due, responsible, extra = {}) => createTask(state, {
    text, entity_type: entityType, entity_id: entityId, task_type_id: typeId, complete_till: SEED_EPOCH + due * day,
    responsible_user_id: responsible, created_by: MAIN_USER_ID, created_at: SEED_EPOCH + 12 * day, ...extra,
  }, MAIN_USER_ID);
  task('Call John Smith about the renewal', 'contacts', 39000001, 1, 33, 8000001);
  task('Meeting at the Acme Corp office', 'companies', 49000001, 2, 35, 8000003, { duration: 3600 });
  task('Send the proposal to Globex', 'companies', 49000002, 2190001, 31, 8000002, { is_completed: true, result: { text: 'Proposal sent by e-mail' } });
  task('Renewal reminder for Acme Corp', 'customers', acme.id, 1, 50, 8000001);
  task('Check the payment from Emily Johnson', 'customers', emily.id, 1, 40, 8000004);
  task('Prepare the quarterly report', undefined, undefined, 1, 90, 8000002);
}

/**
 * Demo only, after the generated leads: tasks and products on leads, more
 * customers, a services catalog. No unsorted records: they would add leads,
 * and the seeds keep the lead count exactly what was asked for.
 */
function addDemoExtras(state) {
  const d = state.data;
  const open = [...d.leads.values()].filter((l) => l.status_id !== WON && l.status_id !== LOST).slice(0, 16);
  const texts = ['Call back about the offer', 'Send the contract draft', 'Product demo for the team', 'Follow up on the invoice'];
  open.slice(0, 12).forEach((l, i) => createTask(state, {
    text: texts[i % texts.length], entity_type: 'leads', entity_id: l.id, task_type_id: [1, 2190001, 2190002, 2][i % 4],
    complete_till: l.created_at + (i + 2) * day, responsible_user_id: l.responsible_user_id, created_by: l.responsible_user_id,
    created_at: l.created_at + 3600, ...(i % 5 === 4 ? { is_completed: true, result: { text: 'Done' } } : {}),
  }, l.responsible_user_id));
  open.slice(0, 8).forEach((l, i) => {
    l.catalog_elements.push({ id: 600001 + (i % 6), catalog_id: 5001, quantity: (i % 3) + 1, price_id: PF.price });
  });
  const services = addCatalog(state, { name: 'Services', type: 'regular', sort: 20, created_by: MAIN_USER_ID, created_at: 1600000000 });
  ['Onboarding session', 'Custom report', 'Priority support (month)'].forEach((name, i) => addElement(state, services.id, { name, created_by: MAIN_USER_ID, created_at: 1600000000 + i }));
  sampleCustomer(state, {
    name: 'Globex maintenance contract', next_price: 25000, next_date: SEED_EPOCH + 90 * day, periodicity: 90, status_id: 62000003,
    created_at: SEED_EPOCH + 15 * day, segments: [401], contacts: [{ id: 39000006, is_main: true }], company: 49000002, tags: ['Wholesale'],
    transactions: [{ price: 25000, comment: 'Q1 maintenance', at: SEED_EPOCH + 20 * day }],
  });
  sampleCustomer(state, {
    name: 'Initech pilot', next_price: 9900, next_date: SEED_EPOCH + 45 * day, periodicity: 30, status_id: 62000004,
    created_at: SEED_EPOCH + 16 * day, company: 49000003,
  });
}

/**
 * Appends `spec.leads` generated leads. Plain loops and direct Map inserts so
 * 50,000 leads take well under a second.
 */
export function generateLeads(state, spec) {
  const rnd = prng(spec.random ?? 1);
  const d = state.data;
  const n = spec.leads | 0;
  const contactsPerLead = spec.contactsPerLead ?? 0;
  const companyRatio = spec.companyRatio ?? 0;
  const maxNotes = spec.maxNotesPerLead ?? 0;
  const userIds = [...d.users.keys()];
  const pipes = [...d.pipelines.values()].map((p) => ({
    id: p.id,
    open: p.statuses.filter((s) => s.type === 0 && s.id !== WON && s.id !== LOST).map((s) => s.id),
  }));
  const lf = d.customFields.leads;
  const enumsOf = (id) => lf.get(id).enums;
  const srcEnums = enumsOf(LF.source); const svcEnums = enumsOf(LF.services); const prioEnums = enumsOf(LF.priority);
  const tagIds = [...d.tags.leads.keys()];
  const lossIds = [...d.lossReasons.keys()];
  const phoneEnum = d.customFields.contacts.get(900102).enums;
  const emailEnum = d.customFields.contacts.get(900103).enums;
  const firstId = d.ids.lead + 1;

  const english = !!spec.english;
  for (let i = 0; i < n; i++) {
    // The same draws in either language, so that a seed's data keeps its shape.
    const en = rnd() < 0.3 || english;
    const companyName = en ? rnd.pick(EN_COMPANIES) : rnd.pick(RU_COMPANIES);
    const name = en ? `${rnd.pick(EN_DEALS)} for ${companyName}` : `${rnd.pick(RU_DEALS)} — ${companyName}`;
    const pipe = rnd() < 0.8 ? pipes[0] : pipes[1];
    const r = rnd();
    const statusId = r < 0.1 ? WON : r < 0.2 ? LOST : rnd.pick(pipe.open);
    const createdAt = SEED_EPOCH + rnd.int(0, 500 * 86400);
    const updatedAt = createdAt + rnd.int(0, 30 * 86400);
    const responsible = rnd.pick(userIds);
    const cf = {};
    if (rnd.chance(0.7)) { const e = rnd.pick(srcEnums); cf[LF.source] = [{ value: e.value, enum_id: e.id, enum_code: null }]; }
    if (rnd.chance(0.5)) cf[LF.budget] = [{ value: String(rnd.int(10, 5000) * 1000) }];
    if (rnd.chance(0.3)) cf[LF.urgent] = [{ value: rnd.chance(0.5) }];
    if (rnd.chance(0.4)) {
      const picked = svcEnums.filter(() => rnd.chance(0.4));
      if (picked.length) cf[LF.services] = picked.map((e) => ({ value: e.value, enum_id: e.id, enum_code: null }));
    }
    if (rnd.chance(0.3)) cf[LF.contractDate] = [{ value: createdAt + rnd.int(1, 60) * 86400 - ((createdAt + 10800) % 86400) }];
    if (rnd.chance(0.4)) { const e = rnd.pick(prioEnums); cf[LF.priority] = [{ value: e.value, enum_id: e.id, enum_code: null }]; }
    if (rnd.chance(0.4)) cf[LF.city] = [{ value: rnd.pick(english ? EN_CITIES : CITIES) }];
    if (rnd.chance(0.2)) cf[LF.contractNo] = [{ value: `${english ? 'C' : 'Д'}-${2024 + (i % 2)}/${String(i + 1).padStart(5, '0')}` }];
    const tags = [];
    const tn = rnd.int(0, 2);
    for (let t = 0; t < tn; t++) { const tag = rnd.pick(tagIds); if (!tags.includes(tag)) tags.push(tag); }
    const closed = statusId === WON || statusId === LOST;
    const lead = newLead({
      id: nextId(state, 'lead'), name, price: rnd.int(0, 5000) * 100, responsible_user_id: responsible,
      group_id: d.users.get(responsible).group_id, status_id: statusId, pipeline_id: pipe.id,
      loss_reason_id: statusId === LOST && rnd.chance(0.6) ? rnd.pick(lossIds) : null,
      created_by: rnd.pick(userIds), updated_by: rnd.pick(userIds), created_at: createdAt, updated_at: updatedAt,
      closed_at: closed ? updatedAt : null, cf, tags,
    });
    d.leads.set(lead.id, lead);

    let companyId = null;
    if (companyRatio && rnd.chance(companyRatio)) {
      const company = newCompany({
        id: nextId(state, 'company'), name: companyName, responsible_user_id: responsible,
        created_by: responsible, updated_by: responsible, created_at: createdAt,
        cf: { 900201: [{ value: `+7495${rnd.int(1000000, 9999999)}`, enum_id: phoneEnum[0].id, enum_code: 'WORK' }] },
      });
      d.companies.set(company.id, company);
      companyId = company.id;
      lead.company_id = companyId;
    }
    for (let c = 0; c < contactsPerLead; c++) {
      const cen = en || rnd.chance(0.1);
      const first = cen ? rnd.pick(EN_FIRST) : rnd.pick(RU_FIRST);
      const lastRaw = cen ? rnd.pick(EN_LAST) : rnd.pick(RU_LAST);
      const last = cen ? lastRaw : ruFemale(lastRaw, first);
      const contact = newContact({
        id: nextId(state, 'contact'), name: `${first} ${last}`, first_name: first, last_name: last,
        responsible_user_id: responsible, created_by: responsible, updated_by: responsible, created_at: createdAt,
        company_id: companyId,
        cf: {
          900102: [{ value: `+79${rnd.int(100000000, 999999999)}`, enum_id: phoneEnum[2].id, enum_code: 'MOB' }],
          900103: [{ value: `${translit(first)}.${translit(last)}${i + 1}@example.com`, enum_id: emailEnum[0].id, enum_code: 'WORK' }],
        },
      });
      d.contacts.set(contact.id, contact);
      lead.contacts.push({ id: contact.id, is_main: c === 0 });
    }
    const notes = maxNotes ? rnd.int(0, maxNotes) : 0;
    for (let k = 0; k < notes; k++) {
      const at = createdAt + (k + 1) * 3600;
      addNote(state, {
        id: nextId(state, 'note'), entity_type: 'leads', entity_id: lead.id, created_by: responsible, updated_by: responsible,
        created_at: at, updated_at: at, responsible_user_id: responsible, group_id: 0, note_type: 'common',
        params: { text: rnd.pick(english ? EN_NOTE_TEXTS : NOTE_TEXTS) }, is_pinned: false,
      });
    }
  }
  return { created: n, firstId: n ? firstId : null, lastId: n ? d.ids.lead : null };
}
