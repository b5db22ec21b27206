// The base of ImmuServiceImpl: immudb.schema.ImmuService with Set through
// gRPC's async API (served by AsyncSetServer) and every other method through
// the callback API. The generated CallbackService with Set's wrapper
// swapped: a method must be marked async before any callback wrapper, so the
// wrappers are listed here in the generated order.
#pragma once

#include "schema.grpc.pb.h"

namespace immudb::server {

namespace immu_service_internal {
using S = immudb::schema::ImmuService;
using B0 = S::Service;
using B1 = S::WithCallbackMethod_TruncateDatabase<B0>;
using B2 = S::WithCallbackMethod_VerifiableSQLGet<B1>;
using B3 = S::WithCallbackMethod_DescribeTable<B2>;
using B4 = S::WithCallbackMethod_ListTables<B3>;
using B5 = S::WithCallbackMethod_SQLQuery<B4>;
using B6 = S::WithCallbackMethod_UnarySQLQuery<B5>;
using B7 = S::WithCallbackMethod_SQLExec<B6>;
using B8 = S::WithCallbackMethod_streamExportTx<B7>;
using B9 = S::WithCallbackMethod_replicateTx<B8>;
using B10 = S::WithCallbackMethod_exportTx<B9>;
using B11 = S::WithCallbackMethod_streamExecAll<B10>;
using B12 = S::WithCallbackMethod_streamHistory<B11>;
using B13 = S::WithCallbackMethod_streamZScan<B12>;
using B14 = S::WithCallbackMethod_streamScan<B13>;
using B15 = S::WithCallbackMethod_streamVerifiableSet<B14>;
using B16 = S::WithCallbackMethod_streamVerifiableGet<B15>;
using B17 = S::WithCallbackMethod_streamSet<B16>;
using B18 = S::WithCallbackMethod_streamGet<B17>;
using B19 = S::WithCallbackMethod_CompactIndex<B18>;
using B20 = S::WithCallbackMethod_FlushIndex<B19>;
using B21 = S::WithCallbackMethod_GetDatabaseSettingsV2<B20>;
using B22 = S::WithCallbackMethod_GetDatabaseSettings<B21>;
using B23 = S::WithCallbackMethod_UpdateDatabaseV2<B22>;
using B24 = S::WithCallbackMethod_UpdateDatabase<B23>;
using B25 = S::WithCallbackMethod_UseDatabase<B24>;
using B26 = S::WithCallbackMethod_DatabaseListV2<B25>;
using B27 = S::WithCallbackMethod_DatabaseList<B26>;
using B28 = S::WithCallbackMethod_DeleteDatabase<B27>;
using B29 = S::WithCallbackMethod_UnloadDatabase<B28>;
using B30 = S::WithCallbackMethod_LoadDatabase<B29>;
using B31 = S::WithCallbackMethod_CreateDatabaseV2<B30>;
using B32 = S::WithCallbackMethod_CreateDatabaseWith<B31>;
using B33 = S::WithCallbackMethod_CreateDatabase<B32>;
using B34 = S::WithCallbackMethod_ZScan<B33>;
using B35 = S::WithCallbackMethod_VerifiableZAdd<B34>;
using B36 = S::WithCallbackMethod_ZAdd<B35>;
using B37 = S::WithCallbackMethod_VerifiableSetReference<B36>;
using B38 = S::WithCallbackMethod_SetReference<B37>;
using B39 = S::WithCallbackMethod_CurrentState<B38>;
using B40 = S::WithCallbackMethod_DatabaseHealth<B39>;
using B41 = S::WithCallbackMethod_Health<B40>;
using B42 = S::WithCallbackMethod_ServerInfo<B41>;
using B43 = S::WithCallbackMethod_History<B42>;
using B44 = S::WithCallbackMethod_TxScan<B43>;
using B45 = S::WithCallbackMethod_VerifiableTxById<B44>;
using B46 = S::WithCallbackMethod_TxById<B45>;
using B47 = S::WithCallbackMethod_CountAll<B46>;
using B48 = S::WithCallbackMethod_Count<B47>;
using B49 = S::WithCallbackMethod_Scan<B48>;
using B50 = S::WithCallbackMethod_ExecAll<B49>;
using B51 = S::WithCallbackMethod_GetAll<B50>;
using B52 = S::WithCallbackMethod_Delete<B51>;
using B53 = S::WithCallbackMethod_VerifiableGet<B52>;
using B54 = S::WithCallbackMethod_Get<B53>;
using B55 = S::WithCallbackMethod_VerifiableSet<B54>;
using B56 = S::WithAsyncMethod_Set<B55>;
using B57 = S::WithCallbackMethod_Logout<B56>;
using B58 = S::WithCallbackMethod_Login<B57>;
using B59 = S::WithCallbackMethod_TxSQLQuery<B58>;
using B60 = S::WithCallbackMethod_TxSQLExec<B59>;
using B61 = S::WithCallbackMethod_Rollback<B60>;
using B62 = S::WithCallbackMethod_Commit<B61>;
using B63 = S::WithCallbackMethod_NewTx<B62>;
using B64 = S::WithCallbackMethod_KeepAlive<B63>;
using B65 = S::WithCallbackMethod_CloseSession<B64>;
using B66 = S::WithCallbackMethod_OpenSession<B65>;
using B67 = S::WithCallbackMethod_UpdateMTLSConfig<B66>;
using B68 = S::WithCallbackMethod_UpdateAuthConfig<B67>;
using B69 = S::WithCallbackMethod_SetActiveUser<B68>;
using B70 = S::WithCallbackMethod_ChangeSQLPrivileges<B69>;
using B71 = S::WithCallbackMethod_ChangePermission<B70>;
using B72 = S::WithCallbackMethod_ChangePassword<B71>;
using B73 = S::WithCallbackMethod_CreateUser<B72>;
using B74 = S::WithCallbackMethod_ListUsers<B73>;
}  // namespace immu_service_internal

using ImmuServiceBase = immu_service_internal::B74;

}  // namespace immudb::server
