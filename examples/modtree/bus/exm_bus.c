// SPDX-License-Identifier: GPL-2.0
#include <linux/module.h>
#include <exm/bus.h>
#include <exm/export.h>

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

/* Only exm_sensor may call this, and only when it is built as a module: a module-scoped export gated on CONFIG_EXM_SENSOR. */
int exm_bus_calibrate(struct exm_device *dev, int offset)
{
	dev->flags |= 1UL << (offset & 31);
	return 0;
}
EXPORT_SYMBOL_GPL_FOR_MODULE_IF(exm_bus_calibrate, "exm_sensor", CONFIG_EXM_SENSOR);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("Example tree: bus");
