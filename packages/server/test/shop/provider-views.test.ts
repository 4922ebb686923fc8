import path from 'node:path';
import { ProviderViews } from '../../src/shop/provider-views';

const views = new ProviderViews({ 'test-providers': path.join(__dirname, 'fixtures', 'views') });

describe('provider views', () => {
  it('renders a built-in partial from the server\'s views/partials with the fmt helpers', () => {
    const html = views.render({ partial: 'kassa/manual-pending', data: { instructions: 'Pay <cash>', amount: { amount: 1250, currency: 'EUR' } } });
    expect(html).toContain('Please pay €12.50.');
    expect(html).toContain('Pay &lt;cash&gt;');
  });

  it('renders a plugin partial from the plugin\'s own folder, named with or without "@"', () => {
    const data = { total: { amount: 500, currency: 'EUR' }, note: 'ok' };
    expect(views.render({ partial: '@test-providers/card-form', data })).toContain('Card for €5.00: ok');
    expect(views.render({ partial: 'test-providers/card-form', data })).toContain('Card for €5.00: ok');
  });

  it('falls back to the view model\'s text for a partial nobody ships, and never leaves a views folder', () => {
    expect(views.render({ partial: '@nobody/form', data: { message: 'Scan <this>', n: 3 } })).toContain('Scan &lt;this&gt;');
    const escape = views.render({ partial: '@test-providers/../../buyer', data: { message: 'safe' } });
    expect(escape).toContain('safe');
    expect(escape).not.toContain('import');
    expect(views.render(null)).toBeNull();
  });
});
