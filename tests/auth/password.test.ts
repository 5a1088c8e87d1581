import { describe, expect, it } from 'vitest';
import { checkPassword, hashPassword, verifyPassword } from '../../pipeline/auth/password.js';

const FORMAT = /^\$scrypt\$ln=15,r=8,p=1\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{43}$/;

describe('password hashing', () => {
  it('verifies the right password and refuses a wrong one', async () => {
    const hash = await hashPassword('correct horse battery');
    expect(await verifyPassword('correct horse battery', hash)).toBe(true);
    expect(await verifyPassword('correct horse batterY', hash)).toBe(false);
    expect(await verifyPassword('', hash)).toBe(false);
  });

  it('writes a self-describing scrypt string that never contains the password', async () => {
    const hash = await hashPassword('correct horse battery');
    expect(hash).toMatch(FORMAT);
    expect(hash).not.toContain('correct');
  });

  it('salts every hash: the same password twice gives different strings, both verify', async () => {
    const [a, b] = await Promise.all([
      hashPassword('same password here'),
      hashPassword('same password here'),
    ]);
    expect(a).not.toBe(b);
    expect(a.split('$')[3]).not.toBe(b.split('$')[3]);
    expect(await verifyPassword('same password here', a)).toBe(true);
    expect(await verifyPassword('same password here', b)).toBe(true);
  });

  it('treats a Unicode password in either normal form as the same password', async () => {
    const hash = await hashPassword('비밀번호는 한글도 됩니다 café');
    expect(await verifyPassword('비밀번호는 한글도 됩니다 café'.normalize('NFD'), hash)).toBe(true);
  });

  it('never matches a malformed or tampered hash, and refuses absurd parameters', async () => {
    const hash = await hashPassword('correct horse battery');
    expect(await verifyPassword('correct horse battery', hash.replace('ln=15', 'ln=14'))).toBe(false);
    expect(await verifyPassword('correct horse battery', hash.replace('ln=15', 'ln=40'))).toBe(false);
    expect(await verifyPassword('correct horse battery', hash.slice(0, -2))).toBe(false);
    expect(await verifyPassword('correct horse battery', 'correct horse battery')).toBe(false);
    expect(await verifyPassword('', '')).toBe(false);
  });

  it('names the field when a password is too short, too long or missing', () => {
    expect(() => checkPassword('short')).toThrow('password: use at least 12 characters');
    expect(() => checkPassword('x'.repeat(1025))).toThrow('password: use at most 1024 characters');
    expect(() => checkPassword(undefined)).toThrow('password: give a password');
    expect(checkPassword('twelve chars')).toBe('twelve chars');
  });
});
