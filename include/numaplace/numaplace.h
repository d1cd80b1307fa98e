/*
 * numaplace.h - the whole public API of libnumaplace in one include.
 *
 * The numaplace tool and service use nothing but what this pulls in.
 */
#ifndef NUMAPLACE_H
#define NUMAPLACE_H

#include <numaplace/version.h>
#include <numaplace/limits.h>
#include <numaplace/error.h>
#include <numaplace/util.h>
#include <numaplace/topology.h>
#include <numaplace/host.h>
#include <numaplace/request.h>
#include <numaplace/flavors.h>
#include <numaplace/plan.h>
#include <numaplace/place.h>
#include <numaplace/emit.h>
#include <numaplace/doc.h>
#include <numaplace/state.h>
#include <numaplace/nova.h>
#include <numaplace/balance.h>
#include <numaplace/runtime.h>
#include <numaplace/sim.h>
#include <numaplace/gen.h>
#include <numaplace/fleet.h>
#include <numaplace/agent.h>

#endif
