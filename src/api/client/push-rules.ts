/**
 * Push rules (spec: client-server-api, Push Rules: API). Rule ids travel percent-encoded in the
 * last path segment and may contain dots (`.m.rule.master`) or colons (room and user ids); the
 * router decodes them into `params.ruleId`.
 */
import { clientPaths, route } from '../../http/route.js';
import type { PushAction } from '../../matrix/push-rules.js';
import type { PushRuleBody } from '../../services/push-rules.js';

const actionsSchema = { type: 'array', items: { type: ['string', 'object'] } };

const conditionSchema = {
  type: 'object',
  required: ['kind'],
  properties: {
    kind: { type: 'string' },
    key: { type: 'string' },
    pattern: { type: 'string' },
    is: { type: 'string' },
    value: { type: ['string', 'integer', 'boolean', 'null'] },
  },
};

/** The path of one rule; only the `global` scope exists. */
const RULE_PATH = '/pushrules/global/:kind/:ruleId';

export const pushRuleRoutes = [
  /**
   * GET /_matrix/client/v3/pushrules/
   * https://spec.matrix.org/v1.16/client-server-api/#get_matrixclientv3pushrules
   */
  route()({
    method: 'GET',
    path: [...clientPaths('/pushrules/'), ...clientPaths('/pushrules')],
    auth: 'accessToken',
    handler: async ({ requester, services }) => services.pushRules.getRuleset(requester.userId),
  }),

  /**
   * GET /_matrix/client/v3/pushrules/global/
   * https://spec.matrix.org/v1.16/client-server-api/#get_matrixclientv3pushrulesglobal
   */
  route()({
    method: 'GET',
    path: [...clientPaths('/pushrules/global/'), ...clientPaths('/pushrules/global')],
    auth: 'accessToken',
    handler: async ({ requester, services }) =>
      (await services.pushRules.getRuleset(requester.userId)).global,
  }),

  /**
   * GET /_matrix/client/v3/pushrules/global/{kind}/{ruleId}
   * https://spec.matrix.org/v1.16/client-server-api/#get_matrixclientv3pushrulesglobalkindruleid
   */
  route()({
    method: 'GET',
    path: clientPaths(RULE_PATH),
    auth: 'accessToken',
    handler: async ({ requester, params, services }) =>
      services.pushRules.getRule(
        requester.userId,
        'global',
        params.kind as string,
        params.ruleId as string,
      ),
  }),

  /**
   * PUT /_matrix/client/v3/pushrules/global/{kind}/{ruleId}
   * https://spec.matrix.org/v1.16/client-server-api/#put_matrixclientv3pushrulesglobalkindruleid
   */
  route<PushRuleBody, { before?: string; after?: string }>()({
    method: 'PUT',
    path: clientPaths(RULE_PATH),
    auth: 'accessToken',
    rateLimited: true,
    body: {
      type: 'object',
      required: ['actions'],
      properties: {
        actions: actionsSchema,
        conditions: { type: 'array', items: conditionSchema },
        pattern: { type: 'string' },
      },
    },
    query: {
      type: 'object',
      properties: { before: { type: 'string' }, after: { type: 'string' } },
    },
    handler: async ({ requester, params, body, query, services }) => {
      await services.pushRules.putRule(
        requester.userId,
        'global',
        params.kind as string,
        params.ruleId as string,
        { actions: body.actions, conditions: body.conditions, pattern: body.pattern },
        query.before,
        query.after,
      );
      return {};
    },
  }),

  /**
   * DELETE /_matrix/client/v3/pushrules/global/{kind}/{ruleId}
   * https://spec.matrix.org/v1.16/client-server-api/#delete_matrixclientv3pushrulesglobalkindruleid
   */
  route()({
    method: 'DELETE',
    path: clientPaths(RULE_PATH),
    auth: 'accessToken',
    handler: async ({ requester, params, services }) => {
      await services.pushRules.deleteRule(
        requester.userId,
        'global',
        params.kind as string,
        params.ruleId as string,
      );
      return {};
    },
  }),

  /**
   * GET /_matrix/client/v3/pushrules/global/{kind}/{ruleId}/enabled
   * https://spec.matrix.org/v1.16/client-server-api/#get_matrixclientv3pushrulesglobalkindruleidenabled
   */
  route()({
    method: 'GET',
    path: clientPaths(`${RULE_PATH}/enabled`),
    auth: 'accessToken',
    handler: async ({ requester, params, services }) =>
      services.pushRules.getEnabled(
        requester.userId,
        'global',
        params.kind as string,
        params.ruleId as string,
      ),
  }),

  /**
   * PUT /_matrix/client/v3/pushrules/global/{kind}/{ruleId}/enabled
   * https://spec.matrix.org/v1.16/client-server-api/#put_matrixclientv3pushrulesglobalkindruleidenabled
   */
  route<{ enabled: boolean }>()({
    method: 'PUT',
    path: clientPaths(`${RULE_PATH}/enabled`),
    auth: 'accessToken',
    rateLimited: true,
    body: {
      type: 'object',
      required: ['enabled'],
      properties: { enabled: { type: 'boolean' } },
    },
    handler: async ({ requester, params, body, services }) => {
      await services.pushRules.setEnabled(
        requester.userId,
        'global',
        params.kind as string,
        params.ruleId as string,
        body.enabled,
      );
      return {};
    },
  }),

  /**
   * GET /_matrix/client/v3/pushrules/global/{kind}/{ruleId}/actions
   * https://spec.matrix.org/v1.16/client-server-api/#get_matrixclientv3pushrulesglobalkindruleidactions
   */
  route()({
    method: 'GET',
    path: clientPaths(`${RULE_PATH}/actions`),
    auth: 'accessToken',
    handler: async ({ requester, params, services }) =>
      services.pushRules.getActions(
        requester.userId,
        'global',
        params.kind as string,
        params.ruleId as string,
      ),
  }),

  /**
   * PUT /_matrix/client/v3/pushrules/global/{kind}/{ruleId}/actions
   * https://spec.matrix.org/v1.16/client-server-api/#put_matrixclientv3pushrulesglobalkindruleidactions
   */
  route<{ actions: PushAction[] }>()({
    method: 'PUT',
    path: clientPaths(`${RULE_PATH}/actions`),
    auth: 'accessToken',
    rateLimited: true,
    body: { type: 'object', required: ['actions'], properties: { actions: actionsSchema } },
    handler: async ({ requester, params, body, services }) => {
      await services.pushRules.setActions(
        requester.userId,
        'global',
        params.kind as string,
        params.ruleId as string,
        body.actions,
      );
      return {};
    },
  }),
];
