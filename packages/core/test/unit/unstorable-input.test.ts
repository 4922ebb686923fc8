import { findUnstorableInput } from '../../src/validation/unstorable-input';

describe('findUnstorableInput', () => {
  it('finds a bad value in a flat record (a form), naming the field', () => {
    expect(findUnstorableInput({ email: 'a@b.example', qty: 1 })).toBeNull();
    expect(findUnstorableInput({ email: 'a\u0000b' })).toEqual({ path: 'email', problem: 'contains a NUL character' });
    expect(findUnstorableInput({ qty: Infinity }, 'body')).toEqual({ path: 'body.qty', problem: 'must be a finite number' });
    expect(findUnstorableInput({ qty: 2 ** 60 })).toEqual({ path: 'qty', problem: 'is out of range' });
    expect(findUnstorableInput({ ['a\u0000']: 'x' })).toEqual({ path: '', problem: 'has a field name with a NUL character' });
  });

  it('answers a flat record as the walk over a nested one does: field names first, then the last bad field', () => {
    const problems = { a: 'x\u0000', b: NaN, ['c\u0000']: 1 };
    expect(findUnstorableInput(problems)).toEqual({ path: '', problem: 'has a field name with a NUL character' });
    // The same fields one level down go through the walk: the same answer, under the outer field.
    expect(findUnstorableInput({ outer: problems })).toEqual({ path: 'outer', problem: 'has a field name with a NUL character' });
    const values = { a: 'x\u0000', b: NaN };
    expect(findUnstorableInput(values)).toEqual({ path: 'b', problem: 'must be a finite number' });
    expect(findUnstorableInput({ outer: values })).toEqual({ path: 'outer.b', problem: 'must be a finite number' });
  });

  it('walks nested input (arrays, objects) and ignores what is not text or a number', () => {
    expect(findUnstorableInput({ positions: [{ name: 'ok' }, { name: 'bad\u0000' }] })).toEqual({ path: 'positions.1.name', problem: 'contains a NUL character' });
    expect(findUnstorableInput({ when: new Date(), raw: Buffer.from([0]), flag: true, gone: undefined, none: null })).toBeNull();
    expect(findUnstorableInput(undefined)).toBeNull();
    expect(findUnstorableInput('a\u0000', 'q')).toEqual({ path: 'q', problem: 'contains a NUL character' });
  });
});
