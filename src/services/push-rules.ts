/**
 * A user's push rules (spec: client-server-api, Push Rules: API): the server-default rules merged
 * with the user's own, and the changes clients make to either. Every change takes a stream
 * position and marks the `m.push_rules` account data changed, so syncs send the new ruleset.
 */
import type { Kysely, Transaction } from 'kysely';
import { invalidParam, missingParam, notFound } from '../errors.js';
import { parseUserId } from '../matrix/ids.js';
import {
  actionsProblem,
  defaultPushRules,
  isPushRuleKind,
  mergeUserRules,
  stripLegacyActions,
  type PushAction,
  type PushCondition,
  type PushRule,
  type PushRuleKind,
  type PushRuleset,
} from '../matrix/push-rules.js';
import {
  deletePushRuleRow,
  getPushRuleRows,
  upsertAccountData,
  upsertPushRuleRow,
} from '../storage/account-data.js';
import type { Executor } from '../storage/database.js';
import type { DB } from '../storage/schema.js';
import type { AccountData } from './account-data.js';

/** What a client sends to create or replace one of its own rules. */
export interface PushRuleBody {
  actions: PushAction[];
  conditions?: PushCondition[];
  pattern?: string;
}

export class PushRules {
  constructor(
    private readonly db: Kysely<DB>,
    private readonly accountData: AccountData,
  ) {}

  /**
   * Every rule the user has, as `GET /pushrules/` returns it and as the content of the
   * `m.push_rules` account data event.
   */
  async getRuleset(userId: string): Promise<{ global: PushRuleset }> {
    return { global: await this.#ruleset(this.db, userId) };
  }

  /** One rule, server-default or the user's own; 404 when there is none with that id. */
  async getRule(userId: string, scope: string, kind: string, ruleId: string): Promise<PushRule> {
    const ruleKind = checkScopeAndKind(scope, kind);
    return findRule(await this.#ruleset(this.db, userId), ruleKind, ruleId);
  }

  /**
   * Creates or replaces one of the user's own rules. A new rule goes first among the user's
   * rules of its kind unless `before` or `after` names one of them (`before` wins when both
   * are given); a replaced rule keeps its place and its enabled state unless moved.
   */
  async putRule(
    userId: string,
    scope: string,
    kind: string,
    ruleId: string,
    body: PushRuleBody,
    before?: string,
    after?: string,
  ): Promise<void> {
    const ruleKind = checkScopeAndKind(scope, kind);
    checkNewRuleId(ruleKind, ruleId);
    const definition = matchingPart(ruleKind, body);
    const problem = actionsProblem(body.actions);
    if (problem) throw invalidParam(problem);
    const anchor = before ?? after;
    if (anchor?.startsWith('.')) {
      throw invalidParam('Rules cannot be placed relative to server-default rules');
    }
    if (anchor === ruleId) throw invalidParam('A rule cannot be placed relative to itself');

    await this.#change(userId, async (trx) => {
      // Most important first: the storage returns rows by descending priority.
      const ownRules = (await getPushRuleRows(trx, userId)).filter(
        (row) => row.kind === ruleKind && row.rule !== null,
      );
      const existing = ownRules.find((row) => row.rule_id === ruleId);
      const order = ownRules.filter((row) => row.rule_id !== ruleId).map((row) => row.rule_id);
      let position = 0;
      if (anchor !== undefined) {
        const index = order.indexOf(anchor);
        if (index < 0) throw notFound(`before/after rule not found: ${anchor}`);
        position = before !== undefined ? index : index + 1;
      }

      await upsertPushRuleRow(trx, userId, {
        kind: ruleKind,
        rule_id: ruleId,
        rule: JSON.stringify(definition),
        actions: JSON.stringify(stripLegacyActions(body.actions)),
        // New rules are enabled (spec: PUT /pushrules/global/{kind}/{ruleId}).
        ...(existing ? {} : { enabled: true }),
      });
      if (existing && anchor === undefined) return;
      order.splice(position, 0, ruleId);
      await reprioritise(trx, userId, ruleKind, order, ownRules);
    });
  }

  /** Deletes one of the user's own rules; server-default rules cannot be deleted. */
  async deleteRule(userId: string, scope: string, kind: string, ruleId: string): Promise<void> {
    const ruleKind = checkScopeAndKind(scope, kind);
    if (ruleId.startsWith('.')) {
      const isDefault = defaultPushRules(userId)[ruleKind].some((r) => r.rule_id === ruleId);
      if (isDefault) throw invalidParam('Server-default rules cannot be deleted');
      throw ruleNotFound();
    }
    await this.#change(userId, async (trx) => {
      if (!(await deletePushRuleRow(trx, userId, ruleKind, ruleId))) throw ruleNotFound();
    });
  }

  /** Whether a rule is enabled. */
  async getEnabled(
    userId: string,
    scope: string,
    kind: string,
    ruleId: string,
  ): Promise<{ enabled: boolean }> {
    return { enabled: (await this.getRule(userId, scope, kind, ruleId)).enabled };
  }

  /** Enables or disables a rule, server-default or the user's own. */
  async setEnabled(
    userId: string,
    scope: string,
    kind: string,
    ruleId: string,
    enabled: boolean,
  ): Promise<void> {
    const ruleKind = checkScopeAndKind(scope, kind);
    await this.#change(userId, async (trx) => {
      findRule(await this.#ruleset(trx, userId), ruleKind, ruleId);
      await upsertPushRuleRow(trx, userId, { kind: ruleKind, rule_id: ruleId, enabled });
    });
  }

  /** The actions of a rule. */
  async getActions(
    userId: string,
    scope: string,
    kind: string,
    ruleId: string,
  ): Promise<{ actions: PushAction[] }> {
    return { actions: (await this.getRule(userId, scope, kind, ruleId)).actions };
  }

  /** Replaces the actions of a rule, server-default or the user's own. */
  async setActions(
    userId: string,
    scope: string,
    kind: string,
    ruleId: string,
    actions: PushAction[],
  ): Promise<void> {
    const ruleKind = checkScopeAndKind(scope, kind);
    const problem = actionsProblem(actions);
    if (problem) throw invalidParam(problem);
    await this.#change(userId, async (trx) => {
      findRule(await this.#ruleset(trx, userId), ruleKind, ruleId);
      await upsertPushRuleRow(trx, userId, {
        kind: ruleKind,
        rule_id: ruleId,
        actions: JSON.stringify(stripLegacyActions(actions)),
      });
    });
  }

  async #ruleset(db: Executor, userId: string): Promise<PushRuleset> {
    return mergeUserRules(defaultPushRules(userId), await getPushRuleRows(db, userId));
  }

  /**
   * Runs `write` at a new stream position and touches `m.push_rules` at that position. Its
   * stored content is a placeholder: sync sends `getRuleset` in its place.
   */
  async #change(userId: string, write: (trx: Transaction<DB>) => Promise<void>): Promise<void> {
    await this.accountData.change(userId, async (trx, stream) => {
      await write(trx);
      await upsertAccountData(trx, {
        user_id: userId,
        room_id: '',
        type: 'm.push_rules',
        content: '{}',
        stream,
      });
    });
  }
}

function ruleNotFound() {
  return notFound('The push rule was not found.');
}

/** The kind named in a path, under the one ruleset scope the spec defines, `global`. */
function checkScopeAndKind(scope: string, kind: string): PushRuleKind {
  if (scope !== 'global') throw invalidParam(`Unknown push rule scope: ${scope}`);
  if (!isPushRuleKind(kind)) throw invalidParam(`Unknown push rule kind: ${kind}`);
  return kind;
}

function findRule(ruleset: PushRuleset, kind: PushRuleKind, ruleId: string): PushRule {
  const rule = ruleset[kind].find((candidate) => candidate.rule_id === ruleId);
  if (!rule) throw ruleNotFound();
  return rule;
}

/**
 * Refuses ids a user's own rule cannot have: ids starting with a dot belong to server-default
 * rules, slashes and backslashes are not allowed, and room and sender rules are named after
 * the room or user they apply to.
 */
function checkNewRuleId(kind: PushRuleKind, ruleId: string): void {
  if (ruleId.length === 0) throw invalidParam('The rule id is empty');
  if (ruleId.startsWith('.')) {
    throw invalidParam('Rule ids starting with "." are reserved for server-default rules');
  }
  if (/[/\\]/.test(ruleId)) throw invalidParam('Rule ids cannot contain slashes or backslashes');
  if (kind === 'room' && !/^![^:]+(:.+)?$/.test(ruleId)) {
    throw invalidParam('The rule id of a room rule must be a room id');
  }
  if (kind === 'sender' && !parseUserId(ruleId)) {
    throw invalidParam('The rule id of a sender rule must be a user id');
  }
}

/**
 * The part of a rule that decides what it matches, as stored: conditions for override and
 * underride rules, a pattern for content rules, nothing for room and sender rules (their id
 * decides).
 */
function matchingPart(kind: PushRuleKind, body: PushRuleBody): Record<string, unknown> {
  const hasConditions = body.conditions !== undefined;
  const hasPattern = body.pattern !== undefined;
  switch (kind) {
    case 'override':
    case 'underride':
      if (hasPattern) throw invalidParam('pattern is only for content rules');
      return { conditions: body.conditions ?? [] };
    case 'content':
      if (hasConditions) throw invalidParam('conditions are only for override and underride rules');
      if (!hasPattern) throw missingParam('Missing parameter: pattern');
      return { pattern: body.pattern };
    case 'room':
    case 'sender':
      if (hasConditions || hasPattern) {
        throw invalidParam(`A ${kind} rule has neither conditions nor a pattern`);
      }
      return {};
  }
}

/**
 * Stores the order of the user's rules of one kind (most important first) as priorities
 * n, n-1, …, 1, writing only the rows whose priority changes.
 */
async function reprioritise(
  trx: Executor,
  userId: string,
  kind: PushRuleKind,
  order: readonly string[],
  before: readonly { rule_id: string; priority: number }[],
): Promise<void> {
  const previous = new Map(before.map((row) => [row.rule_id, row.priority]));
  for (const [index, ruleId] of order.entries()) {
    const priority = order.length - index;
    if (previous.get(ruleId) === priority) continue;
    await upsertPushRuleRow(trx, userId, { kind, rule_id: ruleId, priority });
  }
}
