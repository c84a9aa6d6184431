/**
 * The labels the Mesos source puts on what it writes. They are the contract with the consumers:
 * dns/ reads the master, leader and framework Nodes through them (README "What DNS reads").
 */

/** On every object the source owns; the source lists, updates and deletes only objects with it. */
export const SOURCE_LABEL = 'switchyard.io/source';
/** The default value of SOURCE_LABEL (a second Mesos cluster in one store takes another name). */
export const DEFAULT_SOURCE_NAME = 'mesos';

/** On Nodes: `agent` (a Mesos agent), `master` (a Mesos master), `framework` (a scheduler). */
export const MESOS_ROLE_LABEL = 'switchyard.io/mesos-role';
export type MesosRole = 'agent' | 'master' | 'framework';

/** `"true"` on the master Node that leads; absent on the others. */
export const MESOS_LEADER_LABEL = 'switchyard.io/mesos-leader';
/** On master Nodes: N of `masterN.<domain>` (Mesos-DNS order: the masters list, the leader last if unlisted). */
export const MESOS_MASTER_INDEX_LABEL = 'switchyard.io/mesos-master-index';
/** On Nodes: the PID port — master HTTP port (`_leader._tcp`), agent port (`_slave._tcp`), scheduler port (`_framework._tcp`). */
export const MESOS_PORT_LABEL = 'switchyard.io/mesos-port';
/** On Tasks and framework Nodes: the framework name as Mesos-DNS spells it (DomainFrag: dots kept). */
export const MESOS_FRAMEWORK_LABEL = 'switchyard.io/mesos-framework';
/** On Tasks: the framework id; on agent and framework Nodes: their Mesos id (when valid as a label value). */
export const MESOS_FRAMEWORK_ID_LABEL = 'switchyard.io/mesos-framework-id';
export const MESOS_ID_LABEL = 'switchyard.io/mesos-id';
