import QRCode from 'qrcode';
import { epcQrPayload, epcQrSvgSync } from '../../src';

describe('epcQrSvgSync (the order page\'s QR code, built in a synchronous render hook)', () => {
  const payload = epcQrPayload({ beneficiaryName: 'Winterfest e.V.', iban: 'DE89370400440532013000', amount: { amount: 2350, currency: 'EUR' }, remittance: 'DEMO-Q7ZRX' });

  it('draws exactly the dark modules of the library\'s matrix, at their places', () => {
    const { modules } = QRCode.create([{ data: Buffer.from(payload, 'utf8'), mode: 'byte' }], { errorCorrectionLevel: 'M' });
    const svg = epcQrSvgSync(payload);
    const drawn = new Set<string>();
    for (const m of svg.matchAll(/M(\d+) (\d+)h(\d+)v1h-\d+z/g)) {
      for (let i = 0; i < Number(m[3]); i++) drawn.add(`${Number(m[2]) - 4},${Number(m[1]) - 4 + i}`);
    }
    const dark = new Set<string>();
    for (let r = 0; r < modules.size; r++) for (let c = 0; c < modules.size; c++) if (modules.get(r, c)) dark.add(`${r},${c}`);
    expect(drawn).toEqual(dark);
    expect(svg).toMatch(new RegExp(`^<svg [^>]*viewBox="0 0 ${modules.size + 8} ${modules.size + 8}"`));
  });
});
