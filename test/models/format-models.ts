/**
 * Members with two single sets: `avatar` on a table keyed with its mimetype (formats beside
 * sizes) and `legacy` on the original's schema, for the tests of `formats`.
 */
import {
  DataTypes,
  Model,
  type CreationOptional,
  type InferAttributes,
  type InferCreationAttributes,
  type NonAttribute,
  type Sequelize,
} from 'sequelize';
import { Image, imageAttachment, imageAttributes, type SingleImageSet } from '../../src/index.js';

export function defineFormatModels(sequelize: Sequelize) {
  class Member extends Model<InferAttributes<Member>, InferCreationAttributes<Member>> {
    declare id: CreationOptional<number>;
    declare readonly avatar: NonAttribute<SingleImageSet<MemberAvatar>>;
    declare readonly legacy: NonAttribute<SingleImageSet<LegacyAvatar>>;
  }
  Member.init(
    { id: { type: DataTypes.INTEGER, primaryKey: true, autoIncrement: true } },
    { sequelize, tableName: 'members' },
  );
  class MemberAvatar extends Image<
    InferAttributes<MemberAvatar>,
    InferCreationAttributes<MemberAvatar>
  > {
    declare memberId: number;
  }
  MemberAvatar.init(
    {
      memberId: { type: DataTypes.INTEGER, primaryKey: true },
      ...imageAttributes({ mimetypeInKey: true }),
    },
    { sequelize, tableName: 'member_avatar' },
  );
  imageAttachment(Member, 'avatar', MemberAvatar, { foreignKey: 'memberId' });
  class LegacyAvatar extends Image<
    InferAttributes<LegacyAvatar>,
    InferCreationAttributes<LegacyAvatar>
  > {
    declare memberId: number;
  }
  LegacyAvatar.init(
    { memberId: { type: DataTypes.INTEGER, primaryKey: true }, ...imageAttributes() },
    { sequelize, tableName: 'legacy_avatar' },
  );
  imageAttachment(Member, 'legacy', LegacyAvatar, { foreignKey: 'memberId' });
  return { Member, MemberAvatar, LegacyAvatar };
}
