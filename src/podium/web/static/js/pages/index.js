// Every page of the console: its route, title, the permission that opens it and where the menu shows it.

import { assetsPage, bucketsPage, foldersPage, machinesPage, packagesPage, processesPage, robotsPage, rolesPage, sessionsPage, usersPage } from './catalog.js';
import { bucketPage } from './buckets.js';
import { calendarsPage } from './calendars.js';
import { homePage } from './home.js';
import { jobPage, jobsPage } from './jobs.js';
import { alertsPage, auditPage } from './monitoring.js';
import { packagePage, processPage } from './processes.js';
import { queueItemPage, queuePage, queuesPage } from './queues.js';
import { taskPage, tasksPage } from './tasks.js';
import { tokensPage } from './tokens.js';
import { triggersPage } from './triggers.js';
import { webhookPage, webhooksPage } from './webhooks.js';

export const SECTIONS = [
  { path: '', title: 'Home', group: 'Automations' },
  { path: 'jobs', title: 'Jobs', group: 'Automations', permission: 'Jobs.View' },
  { path: 'processes', title: 'Processes', group: 'Automations', permission: 'Processes.View' },
  { path: 'packages', title: 'Packages', group: 'Automations', permission: 'Packages.View' },
  { path: 'triggers', title: 'Triggers', group: 'Automations', permission: 'Schedules.View' },
  { path: 'queues', title: 'Queues', group: 'Automations', permission: 'Queues.View' },
  { path: 'assets', title: 'Assets', group: 'Automations', permission: 'Assets.View' },
  { path: 'buckets', title: 'Storage buckets', group: 'Automations', permission: 'Buckets.View' },
  { path: 'tasks', title: 'Action Center', group: 'Automations', permission: 'Tasks.View' },
  { path: 'robots', title: 'Robots', group: 'Fleet', permission: 'Robots.View' },
  { path: 'sessions', title: 'Sessions', group: 'Fleet', permission: 'Robots.View', tenant: true },
  { path: 'machines', title: 'Machines', group: 'Fleet', permission: 'Machines.View' },
  { path: 'alerts', title: 'Alerts', group: 'Monitoring', permission: 'Alerts.View' },
  { path: 'audit', title: 'Audit log', group: 'Monitoring', permission: 'Audit.View' },
  { path: 'users', title: 'Users', group: 'Administration', permission: 'Users.View' },
  { path: 'roles', title: 'Roles', group: 'Administration', permission: 'Roles.View' },
  { path: 'folders', title: 'Folders', group: 'Administration', permission: 'Folders.View' },
  { path: 'calendars', title: 'Calendars', group: 'Administration', permission: 'Settings.View' },
  { path: 'webhooks', title: 'Webhooks', group: 'Administration', permission: 'Webhooks.View' },
  { path: 'tokens', title: 'My access tokens', group: 'Me' },
];

export const PAGES = [
  { path: '', title: 'Home', render: homePage },
  { path: 'jobs', title: 'Jobs', permission: 'Jobs.View', render: jobsPage },
  { path: 'jobs/:id', title: 'Job', permission: 'Jobs.View', render: jobPage },
  { path: 'processes', title: 'Processes', permission: 'Processes.View', render: processesPage },
  { path: 'processes/:id', title: 'Process', permission: 'Processes.View', render: processPage },
  { path: 'packages', title: 'Packages', permission: 'Packages.View', render: packagesPage },
  { path: 'packages/:id', title: 'Package', permission: 'Packages.View', render: packagePage },
  { path: 'triggers', title: 'Triggers', permission: 'Schedules.View', render: triggersPage },
  { path: 'queues', title: 'Queues', permission: 'Queues.View', render: queuesPage },
  { path: 'queues/:id', title: 'Queue', permission: 'Queues.View', render: queuePage },
  { path: 'queue-items/:id', title: 'Queue item', permission: 'Transactions.View', render: queueItemPage },
  { path: 'assets', title: 'Assets', permission: 'Assets.View', render: assetsPage },
  { path: 'buckets', title: 'Storage buckets', permission: 'Buckets.View', render: bucketsPage },
  { path: 'buckets/:id', title: 'Storage bucket', permission: 'Buckets.View', render: bucketPage },
  { path: 'tasks', title: 'Action Center', permission: 'Tasks.View', render: tasksPage },
  { path: 'tasks/:id', title: 'Task', permission: 'Tasks.View', render: taskPage },
  { path: 'robots', title: 'Robots', permission: 'Robots.View', render: robotsPage },
  { path: 'sessions', title: 'Sessions', permission: 'Robots.View', tenant: true, render: sessionsPage },
  { path: 'machines', title: 'Machines', permission: 'Machines.View', render: machinesPage },
  { path: 'alerts', title: 'Alerts', permission: 'Alerts.View', render: alertsPage },
  { path: 'audit', title: 'Audit log', permission: 'Audit.View', render: auditPage },
  { path: 'users', title: 'Users', permission: 'Users.View', render: usersPage },
  { path: 'roles', title: 'Roles', permission: 'Roles.View', render: rolesPage },
  { path: 'folders', title: 'Folders', permission: 'Folders.View', render: foldersPage },
  { path: 'calendars', title: 'Calendars', permission: 'Settings.View', render: calendarsPage },
  { path: 'webhooks', title: 'Webhooks', permission: 'Webhooks.View', render: webhooksPage },
  { path: 'webhooks/:id', title: 'Webhook', permission: 'Webhooks.View', render: webhookPage },
  { path: 'tokens', title: 'Personal access tokens', render: tokensPage },
];
