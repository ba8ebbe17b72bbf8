import { describe, expect, it } from 'vitest';
import { mount } from '@vue/test-utils';
import Deadline from './Deadline.vue';
import { setLocale } from '../i18n';

describe('Deadline', () => {
  it('shows an overdue request in words, not colour alone', () => {
    setLocale('vi');
    const past = new Date(Date.now() - 10 * 86400000).toISOString();
    const w = mount(Deadline, { props: { due: past, state: 'submitted' } });
    expect(w.find('[data-overdue="true"]').exists()).toBe(true);
    expect(w.text()).toContain('Quá hạn');
  });
  it('shows working days left for a request being handled', () => {
    const future = new Date(Date.now() + 20 * 86400000).toISOString();
    const w = mount(Deadline, { props: { due: future, state: 'under_review' } });
    expect(w.text()).toMatch(/Còn \d+ ngày làm việc/);
    expect(w.find('[data-overdue]').exists()).toBe(false);
  });
  it('is not overdue once executed', () => {
    const past = new Date(Date.now() - 10 * 86400000).toISOString();
    const w = mount(Deadline, { props: { due: past, state: 'executed' } });
    expect(w.text()).not.toContain('Quá hạn');
  });
});
