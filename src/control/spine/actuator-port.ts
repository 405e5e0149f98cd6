/**
 * The actuators behind the spine (ros2_control's command interface). A port is handed to exactly one
 * `Spine` at construction and nothing else holds it: the spine is the only way to the actuators. A
 * simulated robot and a real one are two implementations.
 */
export interface ActuatorPort {
  /** Channels in canonical action order. */
  readonly channels: number;
  /** Writes the targets of one tick. Called by the spine only, never while power is off. */
  write(targets: Float64Array): void;
  /**
   * Drive power. `false` is safe torque off with the brakes holding (IEC 60204-1 stop categories 0 and 1);
   * `true` restores it after a release.
   */
  setPower(on: boolean): void;
}
