// Why prepare will not go ahead, decided before any change: one line naming the device and the reason.
import { PassthruError } from '../errors.js';

export class PlanRefusal extends PassthruError {
  constructor(
    readonly device: string,
    readonly reason: string,
  ) {
    super(`refused: ${device} ${reason}`, 1);
  }
}
