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

export const emptyBody = { type: 'object', additionalProperties: false, properties: {} } as const;
