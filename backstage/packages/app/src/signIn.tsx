import { OAuth2 } from '@backstage/core-app-api';
import { SignInPage } from '@backstage/core-components';
import {
  type BackstageIdentityApi,
  type OpenIdConnectApi,
  type ProfileInfoApi,
  type SessionApi,
  configApiRef,
  createApiRef,
  discoveryApiRef,
  githubAuthApiRef,
  oauthRequestApiRef,
  useApi,
} from '@backstage/core-plugin-api';
import {
  ApiBlueprint,
  createFrontendModule,
} from '@backstage/frontend-plugin-api';
import {
  SignInPageBlueprint,
  type SignInPageProps,
} from '@backstage/plugin-app-react';

/** The OIDC provider of the auth backend (@backstage/plugin-auth-backend-module-oidc-provider). */
export const oidcAuthApiRef = createApiRef<
  OpenIdConnectApi & ProfileInfoApi & BackstageIdentityApi & SessionApi
>({ id: 'gpu-platform.auth.oidc' });

const oidcAuthApi = ApiBlueprint.make({
  name: 'oidc-auth',
  params: defineParams =>
    defineParams({
      api: oidcAuthApiRef,
      deps: {
        discoveryApi: discoveryApiRef,
        oauthRequestApi: oauthRequestApiRef,
        configApi: configApiRef,
      },
      factory: ({ discoveryApi, oauthRequestApi, configApi }) =>
        OAuth2.create({
          discoveryApi,
          oauthRequestApi,
          configApi,
          provider: { id: 'oidc', title: 'Single sign-on', icon: () => null },
          environment: configApi.getOptionalString('auth.environment'),
          defaultScopes: ['openid', 'profile', 'email'],
        }),
    }),
});

/** Sign-in providers the app offers, chosen by gpuPlatform.signIn.provider. */
const PROVIDERS = {
  github: {
    id: 'github-auth-provider',
    title: 'GitHub',
    message: 'Sign in with your GitHub account',
    apiRef: githubAuthApiRef,
  },
  oidc: {
    id: 'oidc-auth-provider',
    title: 'Single sign-on',
    message: "Sign in with your organisation's identity provider",
    apiRef: oidcAuthApiRef,
  },
} as const;

/** The sign-in page: the one provider the configuration names; `guest` only in the test config. */
function ConfiguredSignInPage(props: SignInPageProps) {
  const config = useApi(configApiRef);
  const provider =
    config.getOptionalString('gpuPlatform.signIn.provider') ?? 'github';
  if (provider === 'guest')
    return <SignInPage {...props} providers={['guest']} />;
  const chosen = PROVIDERS[provider as keyof typeof PROVIDERS];
  if (!chosen) {
    throw new Error(
      `gpuPlatform.signIn.provider: "${provider}" is not one of github, oidc, guest`,
    );
  }
  return <SignInPage {...props} auto provider={chosen} />;
}

const signInPage = SignInPageBlueprint.make({
  params: { loader: async () => ConfiguredSignInPage },
});

/** The app's sign-in: the page and the OIDC provider's API. */
export const signInModule = createFrontendModule({
  pluginId: 'app',
  extensions: [signInPage, oidcAuthApi],
});
