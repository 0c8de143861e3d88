// SPDX-License-Identifier: GPL-2.0
#include <linux/module.h>
#include <exm/bus.h>

int exm_bus_attach(struct exm_device *dev)
{
	return exm_register(dev);
}
EXPORT_SYMBOL_GPL(exm_bus_attach);

int exm_bus_read(struct exm_device *dev, unsigned int reg)
{
	return (int)(reg ^ (unsigned int)dev->id);
}
EXPORT_SYMBOL(exm_bus_read);

/* Only exm_sensor may call this: a module-scoped export. */
int exm_bus_calibrate(struct exm_device *dev, int offset)
{
	dev->flags |= 1UL << (offset & 31);
	return 0;
}
EXPORT_SYMBOL_GPL_FOR_MODULES(exm_bus_calibrate, "exm_sensor");

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("Example tree: bus");
