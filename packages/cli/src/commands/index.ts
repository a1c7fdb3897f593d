/**
 * The command table. To add a command, write `src/commands/<name>.ts` exporting a
 * {@link Command} and list it here; multi-word names (`keys generate`) are matched on the
 * leading arguments, and `help` picks the new command up automatically.
 */

import type { Command } from '../context.js';
import { auditCommand } from './audit.js';
import { clientsAddCommand, clientsListCommand, clientsRemoveCommand } from './clients.js';
import { decodeCommand } from './decode.js';
import { helpCommand } from './help.js';
import { keysGenerateCommand } from './keys-generate.js';
import { keysListCommand, keysRotateCommand } from './keys-manage.js';
import { serveCommand } from './serve.js';
import { sessionsListCommand, sessionsRevokeCommand } from './sessions.js';
import { usersAddCommand, usersDisableCommand, usersEnableCommand, usersListCommand } from './users.js';
import { verifyCommand } from './verify.js';

export const COMMANDS: readonly Command[] = Object.freeze([
  serveCommand,
  usersAddCommand,
  usersListCommand,
  usersDisableCommand,
  usersEnableCommand,
  sessionsListCommand,
  sessionsRevokeCommand,
  clientsAddCommand,
  clientsListCommand,
  clientsRemoveCommand,
  keysListCommand,
  keysRotateCommand,
  auditCommand,
  decodeCommand,
  verifyCommand,
  keysGenerateCommand,
  helpCommand,
]);
