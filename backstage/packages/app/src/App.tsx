import { createApp } from '@backstage/frontend-defaults';
import catalogPlugin from '@backstage/plugin-catalog/alpha';
import orgPlugin from '@backstage/plugin-org/alpha';
import scaffolderPlugin from '@backstage/plugin-scaffolder/alpha';
import userSettingsPlugin from '@backstage/plugin-user-settings/alpha';
import gpuPlatformPlugin from '@internal/plugin-gpu-platform';
import { signInModule } from './signIn';

/**
 * The GPU platform's app (the new frontend system): the catalog with the teams' Groups and their
 * GPU budget cards, the scaffolder with the cost preview field, user settings, and sign-in.
 */
export default createApp({
  features: [
    catalogPlugin,
    orgPlugin,
    scaffolderPlugin,
    userSettingsPlugin,
    gpuPlatformPlugin,
    signInModule,
  ],
});
