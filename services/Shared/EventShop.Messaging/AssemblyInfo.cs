using System.Runtime.CompilerServices;

// The relay's tests stage what a unit of work never does on its own: a row committed and handed over apart.
[assembly: InternalsVisibleTo("EventShop.IntegrationTests")]
