// i2server on Azure Container Apps: the applications (deploy on every release).
//
// - server: `i2server serve --workers 0` (API and UI), internal or external ingress,
//   probes on /api/ccp4i2/, projects share at CCP4I2_PROJECTS_DIR.
// - worker: `i2server worker`, 0..N replicas scaled by KEDA on the job queue in PostgreSQL
//   (or, as an alternative, on a Service Bus queue's length).
// - migrate: a one-off Container Apps job running `i2server migrate` (started by
//   deploy-applications.sh before the apps roll; replicas never migrate).
// - ccp4-setup: a one-off job that puts CCP4 on the ccp4 share (only when ccp4Source = 'share').
// - web: the upstream Next.js front end, optional (i2server serves the UI itself).
//
// Every secret is a Key Vault reference read with the user-assigned identity; no secret
// value appears in an environment variable. tests/deploy_templates.rs checks this file
// against the binary (variables, routes, secret names, the scaler's query).
//
// Environment entries are written one per line (`{ name: 'X', value: … }`): deploy/rehearse.sh
// and the test read them line by line.

targetScope = 'resourceGroup'

@description('Short name used in every resource name (as in infrastructure.bicep).')
param prefix string = 'i2server'

param location string = resourceGroup().location

// Outputs of infrastructure.bicep.
param environmentId string
param identityId string
param keyVaultUri string
param registryServer string
param postgresFqdn string
param dbUser string
param dbName string = 'ccp4i2'
param serviceBusNamespace string = ''
param serviceBusQueue string = ''
@description('True when infrastructure.bicep stored a session-token secret.')
param sessionTokenSecret bool = false

@description('Server image, e.g. <registry>/i2server/server:<tag> (never :latest).')
param serverImage string

@description('Worker image, e.g. <registry>/i2server/worker:<tag>.')
param workerImage string

@description('true: the server is reachable from the internet; false: only inside the environment (put the web app or a gateway in front).')
param ingressExternal bool = true

@description('Entra ID tenant whose tokens the server accepts.')
param aadTenantId string

@description('Entra ID application (client) id: the tokens\' audience.')
param aadClientId string

@description('Comma list of Entra ID group object ids allowed in; empty: any user of the tenant.')
param allowedGroups string = ''

@description('How the worker count follows demand.')
@allowed([ 'postgresql', 'servicebus' ])
param workerScaler string = 'postgresql'

@description('Most worker replicas (each runs one job at a time).')
param workerMaxReplicas int = 10

@description('Where workers find CCP4: baked into the worker image, or on the ccp4 share.')
@allowed([ 'image', 'share' ])
param ccp4Source string = 'image'

@description('CCP4 directory name on the ccp4 share (ccp4Source = share).')
param ccp4Version string = 'ccp4-9'

@description('URL of the CCP4 Linux tarball the ccp4-setup job extracts onto the share (ccp4Source = share).')
param ccp4TarballUrl string = ''

@description('Deploy the upstream Next.js web app in front of the server.')
param deployWeb bool = false

@description('Upstream web image (deployWeb = true).')
param webImage string = ''

@description('false: deploy only the one-off jobs (deploy-applications.sh runs migrations before the apps roll).')
param deployApps bool = true

param buildTimestamp string = 'dev'
param gitCommit string = 'unknown'

// Where the shares are mounted, and where the images keep their files.
var projectsMount = '/mnt/projects'
var ccp4Mount = '/mnt/ccp4'
var ccp4Root = ccp4Source == 'image' ? '/opt/ccp4' : '${ccp4Mount}/${ccp4Version}'

var names = {
  server: '${prefix}-server'
  worker: '${prefix}-worker'
  migrate: '${prefix}-migrate'
  ccp4Setup: '${prefix}-ccp4-setup'
  web: '${prefix}-web'
}

// Jobs that need a worker: waiting and claimable (not cancelled), or held by a worker
// (a replica must stay while its job runs; a running row whose lease expired is claimable
// again and still counted). The table and the condition are queue.rs's claim.
var workerDemandQuery = '''SELECT COUNT(*) FROM i2_job_queue WHERE state = 'running' OR (state = 'queued' AND cancel_requested = false)'''

// ---------------------------------------------------------------- secrets (Key Vault references)

var dbSecrets = [
  { name: 'db-password', keyVaultUrl: '${keyVaultUri}secrets/db-password', identity: identityId }
]
var tokenSecrets = sessionTokenSecret ? [
  { name: 'session-token', keyVaultUrl: '${keyVaultUri}secrets/session-token', identity: identityId }
] : []
var serviceBusSecrets = workerScaler == 'servicebus' ? [
  { name: 'servicebus-connection', keyVaultUrl: '${keyVaultUri}secrets/servicebus-connection', identity: identityId }
] : []

// ---------------------------------------------------------------- environment variables

var dbEnv = [
  { name: 'DB_HOST', value: postgresFqdn }
  { name: 'DB_PORT', value: '5432' }
  { name: 'DB_USER', value: dbUser }
  { name: 'DB_NAME', value: dbName }
  { name: 'DB_SSL_MODE', value: 'require' }
  { name: 'DB_PASSWORD', secretRef: 'db-password' }
  { name: 'CCP4I2_HOME', value: '/var/lib/i2server' }
  { name: 'I2SERVER_LOG_FORMAT', value: 'json' }
]

var serverEnv = concat(dbEnv, [
  { name: 'CCP4I2_PROJECTS_DIR', value: projectsMount }
  { name: 'CCP4I2_ROOT', value: '/opt/ccp4i2/ccp4i2' }
  { name: 'I2SERVER_HOST', value: '0.0.0.0' }
  { name: 'I2SERVER_PORT', value: '8000' }
  { name: 'I2SERVER_WORKERS', value: '0' }
  { name: 'CCP4I2_REQUIRE_AUTH', value: 'true' }
  { name: 'AZURE_AD_TENANT_ID', value: aadTenantId }
  { name: 'AZURE_AD_CLIENT_ID', value: aadClientId }
  { name: 'ALLOWED_AZURE_AD_GROUPS', value: allowedGroups }
  { name: 'BUILD_TIMESTAMP', value: buildTimestamp }
  { name: 'GIT_COMMIT', value: gitCommit }
], sessionTokenSecret ? [
  { name: 'CCP4I2_LOCAL_SESSION_TOKEN', secretRef: 'session-token' }
] : [])

var workerEnv = concat(dbEnv, [
  { name: 'CCP4I2_PROJECTS_DIR', value: projectsMount }
  { name: 'I2SERVER_WORKERS', value: '1' }
  { name: 'I2SERVER_SHUTDOWN_GRACE_SECS', value: '540' }
  { name: 'CCP4', value: ccp4Root }
  { name: 'CCP4I2_PYTHON', value: '${ccp4Root}/bin/ccp4-python' }
  { name: 'CLIBD_MON', value: '${ccp4Root}/lib/data/monomers/' }
])

var migrateEnv = dbEnv

var projectsVolume = { name: 'projects', storageType: 'AzureFile', storageName: 'projects' }
var projectsMountSpec = { volumeName: 'projects', mountPath: projectsMount }
var ccp4Volumes = ccp4Source == 'share' ? [
  { name: 'ccp4', storageType: 'AzureFile', storageName: 'ccp4' }
] : []
var ccp4Mounts = ccp4Source == 'share' ? [
  { volumeName: 'ccp4', mountPath: ccp4Mount }
] : []

var registries = [
  { server: registryServer, identity: identityId }
]
var identities = {
  type: 'UserAssigned'
  userAssignedIdentities: { '${identityId}': {} }
}

// ---------------------------------------------------------------- server

var healthPath = '/api/ccp4i2/health/'
var livenessPath = '/api/ccp4i2/version/'

resource server 'Microsoft.App/containerApps@2024-03-01' = if (deployApps) {
  name: names.server
  location: location
  identity: identities
  properties: {
    environmentId: environmentId
    workloadProfileName: 'Consumption'
    configuration: {
      activeRevisionsMode: 'Single'
      ingress: {
        external: ingressExternal
        targetPort: 8000
        transport: 'auto'
        allowInsecure: false
      }
      registries: registries
      secrets: concat(dbSecrets, tokenSecrets)
    }
    template: {
      containers: [
        {
          name: 'server'
          image: serverImage
          command: [ '/usr/local/bin/i2server' ]
          args: [ 'serve' ]
          resources: { cpu: json('0.5'), memory: '1Gi' }
          env: serverEnv
          volumeMounts: [ projectsMountSpec ]
          probes: [
            {
              // Liveness does not depend on the database: a database outage must not
              // restart every replica.
              type: 'Liveness'
              httpGet: { path: livenessPath, port: 8000 }
              periodSeconds: 30
              timeoutSeconds: 5
              failureThreshold: 3
            }
            {
              type: 'Readiness'
              httpGet: { path: healthPath, port: 8000 }
              periodSeconds: 10
              timeoutSeconds: 5
              failureThreshold: 3
            }
            {
              type: 'Startup'
              httpGet: { path: healthPath, port: 8000 }
              periodSeconds: 2
              timeoutSeconds: 5
              failureThreshold: 30
            }
          ]
        }
      ]
      volumes: [ projectsVolume ]
      scale: {
        minReplicas: 1
        maxReplicas: 3
        rules: [
          { name: 'http', http: { metadata: { concurrentRequests: '50' } } }
        ]
      }
    }
  }
}

// ---------------------------------------------------------------- worker

var postgresRule = {
  name: 'queued-jobs'
  custom: {
    type: 'postgresql'
    metadata: {
      host: postgresFqdn
      port: '5432'
      userName: dbUser
      dbName: dbName
      sslmode: 'require'
      query: workerDemandQuery
      targetQueryValue: '1'
      activationTargetQueryValue: '0'
    }
    auth: [
      { secretRef: 'db-password', triggerParameter: 'password' }
    ]
  }
}

var serviceBusRule = {
  name: 'queued-messages'
  custom: {
    type: 'azure-servicebus'
    metadata: {
      namespace: serviceBusNamespace
      queueName: serviceBusQueue
      messageCount: '1'
    }
    auth: [
      { secretRef: 'servicebus-connection', triggerParameter: 'connection' }
    ]
  }
}

resource worker 'Microsoft.App/containerApps@2024-03-01' = if (deployApps) {
  name: names.worker
  location: location
  identity: identities
  properties: {
    environmentId: environmentId
    workloadProfileName: 'Consumption'
    configuration: {
      activeRevisionsMode: 'Single'
      registries: registries
      secrets: concat(dbSecrets, serviceBusSecrets)
    }
    template: {
      // SIGTERM (scale-in, new revision) lets a running job finish for
      // I2SERVER_SHUTDOWN_GRACE_SECS, then hands it back to the queue.
      terminationGracePeriodSeconds: 600
      containers: [
        {
          name: 'worker'
          image: workerImage
          command: [ '/usr/local/bin/i2server' ]
          args: [ 'worker' ]
          resources: { cpu: json('2'), memory: '4Gi' }
          env: workerEnv
          volumeMounts: concat([ projectsMountSpec ], ccp4Mounts)
        }
      ]
      volumes: concat([ projectsVolume ], ccp4Volumes)
      scale: {
        minReplicas: 0
        maxReplicas: workerMaxReplicas
        rules: [ workerScaler == 'postgresql' ? postgresRule : serviceBusRule ]
      }
    }
  }
}

// ---------------------------------------------------------------- migrations (one-off job)

resource migrate 'Microsoft.App/jobs@2024-03-01' = {
  name: names.migrate
  location: location
  identity: identities
  properties: {
    environmentId: environmentId
    workloadProfileName: 'Consumption'
    configuration: {
      triggerType: 'Manual'
      replicaTimeout: 1800
      replicaRetryLimit: 1
      manualTriggerConfig: { parallelism: 1, replicaCompletionCount: 1 }
      registries: registries
      secrets: dbSecrets
    }
    template: {
      containers: [
        {
          name: 'migrate'
          image: serverImage
          command: [ '/usr/local/bin/i2server' ]
          args: [ 'migrate' ]
          resources: { cpu: json('0.25'), memory: '0.5Gi' }
          env: migrateEnv
        }
      ]
    }
  }
}

// ---------------------------------------------------------------- CCP4 onto the share (optional one-off job)

resource ccp4Setup 'Microsoft.App/jobs@2024-03-01' = if (ccp4Source == 'share') {
  name: names.ccp4Setup
  location: location
  identity: identities
  properties: {
    environmentId: environmentId
    workloadProfileName: 'Consumption'
    configuration: {
      triggerType: 'Manual'
      replicaTimeout: 7200
      replicaRetryLimit: 0
      manualTriggerConfig: { parallelism: 1, replicaCompletionCount: 1 }
      registries: registries
    }
    template: {
      containers: [
        {
          name: 'ccp4-setup'
          image: workerImage
          command: [ '/usr/local/lib/i2server/setup-ccp4-share.sh' ]
          args: [ ccp4TarballUrl, '${ccp4Mount}/${ccp4Version}' ]
          resources: { cpu: json('2'), memory: '4Gi' }
          volumeMounts: ccp4Mounts
        }
      ]
      volumes: ccp4Volumes
    }
  }
}

// ---------------------------------------------------------------- upstream web app (optional)

resource web 'Microsoft.App/containerApps@2024-03-01' = if (deployApps && deployWeb) {
  name: names.web
  location: location
  identity: identities
  properties: {
    environmentId: environmentId
    workloadProfileName: 'Consumption'
    configuration: {
      activeRevisionsMode: 'Single'
      ingress: { external: true, targetPort: 3000, transport: 'auto', allowInsecure: false }
      registries: registries
    }
    template: {
      containers: [
        {
          name: 'web'
          image: webImage
          resources: { cpu: json('0.5'), memory: '1Gi' }
          env: [
            { name: 'API_BASE_URL', value: 'http://${names.server}' }
            { name: 'NEXT_PUBLIC_API_BASE_URL', value: 'http://${names.server}' }
            { name: 'NEXT_PUBLIC_AAD_TENANT_ID', value: aadTenantId }
            { name: 'NEXT_PUBLIC_AAD_CLIENT_ID', value: aadClientId }
            { name: 'NEXT_PUBLIC_REQUIRE_AUTH', value: 'true' }
            { name: 'REQUIRE_PROXY_AUTH', value: 'true' }
          ]
          probes: [
            { type: 'Readiness', httpGet: { path: '/api/health', port: 3000 }, periodSeconds: 10 }
          ]
        }
      ]
      scale: { minReplicas: 1, maxReplicas: 3 }
    }
  }
}

output serverFqdn string = deployApps ? server.properties.configuration.ingress.fqdn : ''
output serverUrl string = deployApps ? 'https://${server.properties.configuration.ingress.fqdn}' : ''
output migrateJob string = migrate.name
output ccp4SetupJob string = ccp4Source == 'share' ? names.ccp4Setup : ''
output webUrl string = deployApps && deployWeb ? 'https://${web.properties.configuration.ingress.fqdn}' : ''
