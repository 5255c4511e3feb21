// Deterministic seed data: the account catalog (users, pipelines, custom
// fields, loss reasons, tags, a product catalog) plus optional generated leads,
// contacts, companies and notes. Same seed spec → same data (seeded PRNG, fixed
// timestamps).
import {
  ACCOUNT_ID, SUBDOMAIN, emptyData, nextId, newLead, newContact, newCompany, addNote, ensureTag,
} from './store.mjs';

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
    is_predefined: !!f.predefined, entity_type: entity, remind: null, settings: null, nested: null,
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
    country: 'RU', currency: 'RUB', currency_symbol: '₽', customers_mode: 'disabled',
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
  d.catalogs.set(5001, { id: 5001, name: 'Товары', type: 'products', sort: 10, can_add_elements: true, can_link_multiple: true });
  ['Лицензия «Базовая»', 'Лицензия «Расширенная»', 'Внедрение под ключ', 'Обучение персонала', 'Интеграция с 1С', 'Техподдержка (год)']
    .forEach((name, i) => {
      const id = 600001 + i;
      d.catalogElements.set(id, { id, name, catalog_id: 5001, price: (i + 1) * 15000 });
    });
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
  if (spec === undefined || spec === null || spec === 'base' || spec === false) return { leads: 0 };
  if (spec === 'demo' || spec === true) return demoSpec();
  if (typeof spec === 'number') return { leads: spec };
  if (typeof spec === 'object') return spec.demo ? { ...demoSpec(), ...spec } : { ...spec };
  throw new Error(`unknown seed spec ${spec}`);
}

function demoSpec() {
  return { demo: true, leads: 300, contactsPerLead: 1, companyRatio: 0.6, maxNotesPerLead: 3, random: 42 };
}

/** Rebuilds all CRM data from a seed spec (see normalizeSeed). */
export function applySeed(state, rawSpec) {
  const spec = normalizeSeed(rawSpec);
  state.data = emptyData();
  buildBase(state);
  if (spec.leads > 0) generateLeads(state, spec);
  return spec;
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

  for (let i = 0; i < n; i++) {
    const en = rnd() < 0.3;
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
    if (rnd.chance(0.4)) cf[LF.city] = [{ value: rnd.pick(CITIES) }];
    if (rnd.chance(0.2)) cf[LF.contractNo] = [{ value: `Д-${2024 + (i % 2)}/${String(i + 1).padStart(5, '0')}` }];
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
        params: { text: rnd.pick(NOTE_TEXTS) }, is_pinned: false,
      });
    }
  }
  return { created: n, firstId: n ? firstId : null, lastId: n ? d.ids.lead : null };
}
