import { createCronApp } from './cron-app';

createCronApp();
