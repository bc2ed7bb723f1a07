// i2server on Azure Container Apps: the infrastructure (deploy once per environment).
//
// VNet with a Container Apps subnet and a private-endpoint subnet; PostgreSQL Flexible
// Server, Key Vault and the storage account's file service reachable only through private
// endpoints; one user-assigned identity that the apps use to pull images and read secrets.
// Deployed by deploy-infrastructure.sh; applications.bicep takes this file's outputs.

targetScope = 'resourceGroup'

@description('Short name used in every resource name (lower-case letters and digits).')
@minLength(3)
@maxLength(12)
param prefix string = 'i2server'

@description('Azure region.')
param location string = resourceGroup().location

@description('PostgreSQL administrator login (the apps connect as this user).')
param dbAdminUser string = 'i2admin'

@description('PostgreSQL administrator password; stored in Key Vault as db-password.')
@secure()
param dbAdminPassword string

@description('Database the apps use.')
param dbName string = 'ccp4i2'

@description('PostgreSQL compute size (Burstable B1ms is the smallest).')
param dbSkuName string = 'Standard_B1ms'

@description('PostgreSQL compute tier matching dbSkuName.')
@allowed([ 'Burstable', 'GeneralPurpose', 'MemoryOptimized' ])
param dbSkuTier string = 'Burstable'

@description('PostgreSQL storage in GiB.')
param dbStorageGb int = 32

@description('Quota of the projects file share in GiB.')
param projectsShareGb int = 1024

@description('Create the ccp4 file share (needed only when workers take CCP4 from a share instead of their image).')
param ccp4OnShare bool = false

@description('Quota of the ccp4 file share in GiB (a CCP4 installation is 10-15 GB).')
param ccp4ShareGb int = 100

@description('Create a Service Bus namespace and queue (only for the alternative worker scale rule).')
param deployServiceBus bool = false

@description('A fixed bearer token (CCP4I2_LOCAL_SESSION_TOKEN) for automation and verify.sh; empty: none.')
@secure()
param sessionToken string = ''

@description('Days Log Analytics keeps logs.')
param logRetentionDays int = 30

var suffix = uniqueString(resourceGroup().id, prefix)
var names = {
  vnet: '${prefix}-vnet'
  logs: '${prefix}-logs'
  env: '${prefix}-env'
  identity: '${prefix}-identity'
  postgres: '${prefix}-pg-${suffix}'
  vault: take('kv${prefix}${suffix}', 24)
  storage: take('st${prefix}${suffix}', 24)
  registry: take('acr${prefix}${suffix}', 50)
  serviceBus: '${prefix}-sb-${suffix}'
  queue: '${prefix}-jobs'
}

// Built-in role definition ids.
var roles = {
  keyVaultSecretsUser: '4633458b-17de-408a-b874-0445c86b69e6'
  acrPull: '7f951dda-4ed3-4680-a7ca-43fe172d538d'
}

// ---------------------------------------------------------------- network

resource vnet 'Microsoft.Network/virtualNetworks@2023-11-01' = {
  name: names.vnet
  location: location
  properties: {
    addressSpace: { addressPrefixes: [ '10.40.0.0/16' ] }
    subnets: [
      {
        // Workload-profile environments need a /27 or larger subnet delegated to Microsoft.App.
        name: 'apps'
        properties: {
          addressPrefix: '10.40.0.0/23'
          delegations: [
            { name: 'apps', properties: { serviceName: 'Microsoft.App/environments' } }
          ]
        }
      }
      {
        name: 'private-endpoints'
        properties: {
          addressPrefix: '10.40.2.0/24'
          privateEndpointNetworkPolicies: 'Disabled'
        }
      }
    ]
  }
}

var appsSubnetId = '${vnet.id}/subnets/apps'
var endpointSubnetId = '${vnet.id}/subnets/private-endpoints'

// One private DNS zone per private-link service, linked to the VNet, so the apps resolve
// the services' usual names to private addresses.
var privateZones = [
  'privatelink.postgres.database.azure.com'
  'privatelink.vaultcore.azure.net'
  'privatelink.file.${environment().suffixes.storage}'
]

resource zones 'Microsoft.Network/privateDnsZones@2020-06-01' = [for z in privateZones: {
  name: z
  location: 'global'
}]

resource zoneLinks 'Microsoft.Network/privateDnsZones/virtualNetworkLinks@2020-06-01' = [for (z, i) in privateZones: {
  parent: zones[i]
  name: '${prefix}-link'
  location: 'global'
  properties: {
    registrationEnabled: false
    virtualNetwork: { id: vnet.id }
  }
}]

// ---------------------------------------------------------------- identity

resource identity 'Microsoft.ManagedIdentity/userAssignedIdentities@2023-01-31' = {
  name: names.identity
  location: location
}

// ---------------------------------------------------------------- logs

resource logs 'Microsoft.OperationalInsights/workspaces@2022-10-01' = {
  name: names.logs
  location: location
  properties: {
    sku: { name: 'PerGB2018' }
    retentionInDays: logRetentionDays
  }
}

// ---------------------------------------------------------------- registry

// Basic is enough: images are pulled over the public endpoint with the identity (AcrPull).
resource registry 'Microsoft.ContainerRegistry/registries@2023-07-01' = {
  name: names.registry
  location: location
  sku: { name: 'Basic' }
  properties: { adminUserEnabled: false }
}

resource registryPull 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  scope: registry
  name: guid(registry.id, identity.id, roles.acrPull)
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.acrPull)
    principalId: identity.properties.principalId
    principalType: 'ServicePrincipal'
  }
}

// ---------------------------------------------------------------- PostgreSQL

resource postgres 'Microsoft.DBforPostgreSQL/flexibleServers@2024-08-01' = {
  name: names.postgres
  location: location
  sku: { name: dbSkuName, tier: dbSkuTier }
  properties: {
    version: '16'
    administratorLogin: dbAdminUser
    administratorLoginPassword: dbAdminPassword
    storage: { storageSizeGB: dbStorageGb }
    backup: { backupRetentionDays: 7, geoRedundantBackup: 'Disabled' }
    highAvailability: { mode: 'Disabled' }
    network: { publicNetworkAccess: 'Disabled' }
  }
}

resource database 'Microsoft.DBforPostgreSQL/flexibleServers/databases@2024-08-01' = {
  parent: postgres
  name: dbName
  properties: { charset: 'UTF8', collation: 'en_US.utf8' }
}

// ---------------------------------------------------------------- Key Vault

resource vault 'Microsoft.KeyVault/vaults@2023-07-01' = {
  name: names.vault
  location: location
  properties: {
    tenantId: subscription().tenantId
    sku: { family: 'A', name: 'standard' }
    enableRbacAuthorization: true
    enableSoftDelete: true
    softDeleteRetentionInDays: 7
    publicNetworkAccess: 'Disabled'
    networkAcls: { defaultAction: 'Deny', bypass: 'AzureServices' }
  }
}

// Secrets are written through Azure Resource Manager, so the vault needs no public access.
resource dbPasswordSecret 'Microsoft.KeyVault/vaults/secrets@2023-07-01' = {
  parent: vault
  name: 'db-password'
  properties: { value: dbAdminPassword }
}

resource sessionTokenSecret 'Microsoft.KeyVault/vaults/secrets@2023-07-01' = if (!empty(sessionToken)) {
  parent: vault
  name: 'session-token'
  properties: { value: sessionToken }
}

resource vaultReader 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  scope: vault
  name: guid(vault.id, identity.id, roles.keyVaultSecretsUser)
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.keyVaultSecretsUser)
    principalId: identity.properties.principalId
    principalType: 'ServicePrincipal'
  }
}

// ---------------------------------------------------------------- storage

resource storage 'Microsoft.Storage/storageAccounts@2023-05-01' = {
  name: names.storage
  location: location
  kind: 'StorageV2'
  sku: { name: 'Standard_LRS' }
  properties: {
    minimumTlsVersion: 'TLS1_2'
    allowBlobPublicAccess: false
    // SMB mounts in Container Apps authenticate with the account key.
    allowSharedKeyAccess: true
    publicNetworkAccess: 'Disabled'
    networkAcls: { defaultAction: 'Deny', bypass: 'AzureServices' }
  }
}

resource fileService 'Microsoft.Storage/storageAccounts/fileServices@2023-05-01' = {
  parent: storage
  name: 'default'
}

resource projectsShare 'Microsoft.Storage/storageAccounts/fileServices/shares@2023-05-01' = {
  parent: fileService
  name: 'projects'
  properties: { shareQuota: projectsShareGb, accessTier: 'TransactionOptimized' }
}

resource ccp4Share 'Microsoft.Storage/storageAccounts/fileServices/shares@2023-05-01' = if (ccp4OnShare) {
  parent: fileService
  name: 'ccp4'
  properties: { shareQuota: ccp4ShareGb, accessTier: 'TransactionOptimized' }
}

// ---------------------------------------------------------------- private endpoints

var endpoints = [
  { name: 'postgres', target: postgres.id, group: 'postgresqlServer', zone: 0 }
  { name: 'vault', target: vault.id, group: 'vault', zone: 1 }
  { name: 'file', target: storage.id, group: 'file', zone: 2 }
]

resource privateEndpoints 'Microsoft.Network/privateEndpoints@2023-11-01' = [for e in endpoints: {
  name: '${prefix}-pe-${e.name}'
  location: location
  properties: {
    subnet: { id: endpointSubnetId }
    privateLinkServiceConnections: [
      {
        name: e.name
        properties: { privateLinkServiceId: e.target, groupIds: [ e.group ] }
      }
    ]
  }
}]

resource endpointZones 'Microsoft.Network/privateEndpoints/privateDnsZoneGroups@2023-11-01' = [for (e, i) in endpoints: {
  parent: privateEndpoints[i]
  name: 'default'
  properties: {
    privateDnsZoneConfigs: [
      { name: e.name, properties: { privateDnsZoneId: zones[e.zone].id } }
    ]
  }
}]

// ---------------------------------------------------------------- Service Bus (optional)

resource serviceBus 'Microsoft.ServiceBus/namespaces@2022-10-01-preview' = if (deployServiceBus) {
  name: names.serviceBus
  location: location
  sku: { name: 'Standard', tier: 'Standard' }
  properties: { minimumTlsVersion: '1.2' }
}

resource queue 'Microsoft.ServiceBus/namespaces/queues@2022-10-01-preview' = if (deployServiceBus) {
  parent: serviceBus
  name: names.queue
  properties: { maxSizeInMegabytes: 1024, deadLetteringOnMessageExpiration: true }
}

// KEDA reads the queue length with a Listen+Manage rule on the queue only.
resource queueRule 'Microsoft.ServiceBus/namespaces/queues/authorizationRules@2022-10-01-preview' = if (deployServiceBus) {
  parent: queue
  name: 'scaler'
  properties: { rights: [ 'Listen', 'Manage', 'Send' ] }
}

resource serviceBusSecret 'Microsoft.KeyVault/vaults/secrets@2023-07-01' = if (deployServiceBus) {
  parent: vault
  name: 'servicebus-connection'
  properties: { value: deployServiceBus ? queueRule.listKeys().primaryConnectionString : '' }
}

// ---------------------------------------------------------------- Container Apps environment

resource appsEnv 'Microsoft.App/managedEnvironments@2024-03-01' = {
  name: names.env
  location: location
  properties: {
    vnetConfiguration: {
      infrastructureSubnetId: appsSubnetId
      // Internal-only ingress is chosen per app (applications.bicep, param ingressExternal).
      internal: false
    }
    workloadProfiles: [
      { name: 'Consumption', workloadProfileType: 'Consumption' }
    ]
    appLogsConfiguration: {
      destination: 'log-analytics'
      logAnalyticsConfiguration: {
        customerId: logs.properties.customerId
        sharedKey: logs.listKeys().primarySharedKey
      }
    }
  }
}

resource projectsStorage 'Microsoft.App/managedEnvironments/storages@2024-03-01' = {
  parent: appsEnv
  name: 'projects'
  properties: {
    azureFile: {
      accountName: storage.name
      accountKey: storage.listKeys().keys[0].value
      shareName: projectsShare.name
      accessMode: 'ReadWrite'
    }
  }
}

resource ccp4Storage 'Microsoft.App/managedEnvironments/storages@2024-03-01' = if (ccp4OnShare) {
  parent: appsEnv
  name: 'ccp4'
  properties: {
    azureFile: {
      accountName: storage.name
      accountKey: storage.listKeys().keys[0].value
      shareName: 'ccp4'
      accessMode: 'ReadWrite'
    }
  }
  dependsOn: [ ccp4Share ]
}

// ---------------------------------------------------------------- outputs (applications.bicep parameters)

output environmentId string = appsEnv.id
output environmentDomain string = appsEnv.properties.defaultDomain
output identityId string = identity.id
output identityClientId string = identity.properties.clientId
output keyVaultUri string = vault.properties.vaultUri
output registryServer string = registry.properties.loginServer
output registryName string = registry.name
output postgresFqdn string = postgres.properties.fullyQualifiedDomainName
output dbUser string = dbAdminUser
output dbName string = database.name
output storageAccount string = storage.name
output serviceBusNamespace string = deployServiceBus ? serviceBus.name : ''
output serviceBusQueue string = deployServiceBus ? queue.name : ''
output sessionTokenSecret bool = !empty(sessionToken)
