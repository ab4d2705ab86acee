import { costLimitPlugin } from '@escape.tech/graphql-armor-cost-limit';
import { maxAliasesPlugin } from '@escape.tech/graphql-armor-max-aliases';
import { maxDepthPlugin } from '@escape.tech/graphql-armor-max-depth';
import { maxTokensPlugin } from '@escape.tech/graphql-armor-max-tokens';
import { GraphQLError } from 'graphql';
import type { AbuseLimits } from '../config.js';

export const TOO_COMPLEX = 'QUERY_TOO_COMPLEX';

export function tooComplex(message: string, status = 400): GraphQLError {
  return new GraphQLError(message, { extensions: { code: TOO_COMPLEX, http: { status } } });
}

/** graphql-armor's limits, rejecting with our stable QUERY_TOO_COMPLEX code. */
export function abuseLimitPlugins(limits: AbuseLimits) {
  const reject = {
    propagateOnRejection: false,
    onReject: [
      (_ctx: unknown, error: GraphQLError) => {
        throw tooComplex(error.message.replace(/^Syntax Error: /, ''));
      },
    ],
  };
  return [
    maxTokensPlugin({ n: limits.maxTokens, ...reject }),
    maxDepthPlugin({ n: limits.maxDepth, ignoreIntrospection: true, ...reject }),
    maxAliasesPlugin({ n: limits.maxAliases, ...reject }),
    // Cost: 2 per object and 1 per scalar field selected, times the `first`/`last` of each list above it.
    costLimitPlugin({ maxCost: limits.maxCost, objectCost: 2, scalarCost: 1, depthCostFactor: 1, ...reject }),
  ];
}
