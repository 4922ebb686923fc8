import { decodeForm, FormDecodeError } from '../src/form-decode';

describe('decodeForm', () => {
  it('reads stripe-node encoding: nested brackets and indexed arrays', () => {
    const body = 'amount=1000&metadata[order]=A%201&payment_method_types[0]=card&payment_method_types[1]=link&transfer_data[destination]=acct_1';
    expect(decodeForm(body)).toEqual({ amount: '1000', metadata: { order: 'A 1' }, payment_method_types: ['card', 'link'], transfer_data: { destination: 'acct_1' } });
  });

  it('reads curl-style x[]= arrays, arrays of objects and percent-encoded brackets', () => {
    expect(decodeForm('expand[]=a&expand[]=b')).toEqual({ expand: ['a', 'b'] });
    expect(decodeForm('items[0][price]=p1&items[1][price]=p2')).toEqual({ items: [{ price: 'p1' }, { price: 'p2' }] });
    expect(decodeForm('metadata%5Bk%5D=v&q=a+b')).toEqual({ metadata: { k: 'v' }, q: 'a b' });
  });

  it('keeps empty values (unset) and non-contiguous numeric keys as objects', () => {
    expect(decodeForm('metadata[k]=&description=')).toEqual({ metadata: { k: '' }, description: '' });
    expect(decodeForm('metadata[1]=x')).toEqual({ metadata: { 1: 'x' } });
  });

  it('rejects unbalanced brackets and conflicting shapes, naming the key', () => {
    expect(() => decodeForm('metadata[a=1')).toThrow(FormDecodeError);
    expect(() => decodeForm('a=1&a[b]=2')).toThrow('a[b]');
    expect(() => decodeForm('[x]=1')).toThrow(FormDecodeError);
    expect(() => decodeForm('a=%E0%A4%A')).toThrow(FormDecodeError);
  });
});
