/**
 * The command table. To add a command, write `src/commands/<name>.ts` exporting a
 * {@link Command} and list it here; multi-word names (`keys generate`) are matched on the
 * leading arguments, and `help` picks the new command up automatically.
 */

import type { Command } from '../context.js';
import { decodeCommand } from './decode.js';
import { helpCommand } from './help.js';
import { keysGenerateCommand } from './keys-generate.js';
import { verifyCommand } from './verify.js';

export const COMMANDS: readonly Command[] = Object.freeze([
  decodeCommand,
  verifyCommand,
  keysGenerateCommand,
  helpCommand,
]);
