import { createRouter, createWebHistory, type RouteRecordRaw } from 'vue-router';
import { session, loadSession, type Role } from './session';
import { t, type MessageKey } from './i18n';

declare module 'vue-router' {
  interface RouteMeta {
    title: MessageKey;
    public?: boolean; // reachable without logging in
    roles?: Role[]; // only these roles (others get the 403 page)
  }
}

const routes: RouteRecordRaw[] = [
  { path: '/', redirect: () => (session.me ? '/dashboard' : '/login') },
  {
    path: '/login',
    component: () => import('./pages/LoginPage.vue'),
    meta: { title: 'login.title', public: true },
  },
  {
    path: '/verify',
    component: () => import('./pages/VerifyPage.vue'),
    meta: { title: 'verify.title', public: true },
  },
  {
    path: '/downloads',
    component: () => import('./pages/DownloadsPage.vue'),
    meta: { title: 'downloads.title', public: true },
  },
  {
    path: '/dashboard',
    component: () => import('./pages/DashboardPage.vue'),
    meta: { title: 'dashboard.title' },
  },
  {
    path: '/certificates',
    component: () => import('./pages/CertificatesPage.vue'),
    meta: { title: 'cert.title' },
  },
  {
    path: '/requests',
    component: () => import('./pages/RequestsPage.vue'),
    meta: { title: 'req.title' },
  },
  {
    path: '/requests/new',
    component: () => import('./pages/NewRequestPage.vue'),
    meta: { title: 'new.title', roles: ['agency_officer', 'subscriber', 'ca_operator'] },
  },
  {
    path: '/staff',
    component: () => import('./pages/StaffPage.vue'),
    meta: { title: 'staff.title', roles: ['agency_officer', 'admin', 'ca_operator'] },
  },
  {
    path: '/requests/:id(\\d+)/attachments',
    component: () => import('./pages/AttachmentsPage.vue'),
    meta: { title: 'attach.title' },
  },
  {
    path: '/requests/:id(\\d+)',
    component: () => import('./pages/RequestPage.vue'),
    meta: { title: 'req.title' },
  },
  {
    path: '/audit',
    component: () => import('./pages/AuditPage.vue'),
    meta: { title: 'audit.title', roles: ['auditor'] },
  },
  {
    path: '/delegations',
    component: () => import('./pages/DelegationsPage.vue'),
    meta: { title: 'deleg.title', roles: ['ca_operator'] },
  },
  {
    path: '/accounts',
    component: () => import('./pages/AccountsPage.vue'),
    meta: { title: 'acct.title', roles: ['admin'] },
  },
  {
    path: '/status',
    component: () => import('./pages/StatusPage.vue'),
    meta: { title: 'status.title', roles: ['ca_operator', 'auditor', 'admin'] },
  },
  {
    path: '/account',
    component: () => import('./pages/AccountPage.vue'),
    meta: { title: 'account.title' },
  },
  {
    path: '/403',
    component: () => import('./pages/ForbiddenPage.vue'),
    meta: { title: 'forbidden.title', public: true },
  },
  {
    path: '/:rest(.*)*',
    component: () => import('./pages/NotFoundPage.vue'),
    meta: { title: 'notFound.title', public: true },
  },
];

export const router = createRouter({ history: createWebHistory(), routes });

router.beforeEach(async (to) => {
  if (!session.checked) await loadSession();
  if (to.meta.public) return true;
  if (!session.me) return { path: '/login', query: { next: to.fullPath } };
  if (to.meta.roles && !to.meta.roles.includes(session.me.role)) return { path: '/403' };
  return true;
});

router.afterEach((to) => {
  document.title = `${t(to.meta.title)} — kyso`;
});
