/** JSON schemas shared by routes. Strict: no extra members, no type coercion. */

export const credentialsBody = {
  type: 'object',
  additionalProperties: false,
  required: ['email', 'password'],
  properties: {
    email: { type: 'string', minLength: 3, maxLength: 254 },
    password: { type: 'string', minLength: 1, maxLength: 1024 },
  },
} as const;

/**
 * A new password (register, password change). Its length is the password policy's to judge, so
 * that 7 or 1,025 characters get ERR_PASSWORD_POLICY naming the rule; the schema only bounds
 * it (the body limit bounds it too). Fix: the shared 1,024 cap used to answer 1,025 characters
 * with a generic ERR_VALIDATION.
 */
export const newPasswordSchema = { type: 'string', maxLength: 4096 } as const;

export const registerBody = {
  ...credentialsBody,
  properties: { email: credentialsBody.properties.email, password: newPasswordSchema },
} as const;

export const emptyBody = { type: 'object', additionalProperties: false, properties: {} } as const;
